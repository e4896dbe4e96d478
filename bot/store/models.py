"""Database tables as typed SQLAlchemy 2 models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so that Alembic can drop and alter them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

META_ID = String(32)  # Meta ids are numeric strings of up to ~20 digits
SLACK_ID = String(32)
NAME = String(200)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC that always comes back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use bot.store.models.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Business(Base):
    """A Meta business pixelbot acts for, with its encrypted token and approvals channel."""

    __tablename__ = "businesses"

    business_id: Mapped[str] = mapped_column(META_ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    approvals_channel: Mapped[str | None] = mapped_column(SLACK_ID)
    token_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    token_fingerprint: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class BusinessAdmin(Base):
    """A Slack user allowed to act for a business."""

    __tablename__ = "business_admins"

    slack_user_id: Mapped[str] = mapped_column(SLACK_ID, primary_key=True)
    business_id: Mapped[str] = mapped_column(
        META_ID, ForeignKey("businesses.business_id", ondelete="CASCADE"), primary_key=True
    )
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_business_admins_business_id", "business_id"),)


class ShareRequest(Base):
    """One attempt to share a pixel with an agency, from intent to final state.

    Business ids are not foreign keys on purpose: a request that reached Meta must outlive
    the removal of either business from pixelbot.
    """

    __tablename__ = "share_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pixel_id: Mapped[str] = mapped_column(META_ID)
    owner_business_id: Mapped[str] = mapped_column(META_ID)
    agency_business_id: Mapped[str] = mapped_column(META_ID)
    permitted_tasks: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    # Not unique: Meta groups every pixel shared between two businesses into one request.
    pending_request_id: Mapped[str | None] = mapped_column(META_ID)
    requester_slack_id: Mapped[str] = mapped_column(SLACK_ID)
    note: Mapped[str | None] = mapped_column(Text)
    # Names as Meta gave them when the request was made, to redraw messages without Meta.
    pixel_name: Mapped[str | None] = mapped_column(NAME)
    owner_name: Mapped[str | None] = mapped_column(NAME)
    agency_name: Mapped[str | None] = mapped_column(NAME)
    decider_slack_id: Mapped[str | None] = mapped_column(SLACK_ID)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    slack_channel: Mapped[str | None] = mapped_column(SLACK_ID)
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    graph_error_code: Mapped[int | None] = mapped_column(Integer)
    graph_error_subcode: Mapped[int | None] = mapped_column(Integer)
    graph_error_message: Mapped[str | None] = mapped_column(Text)
    graph_fbtrace_id: Mapped[str | None] = mapped_column(String(64))
    # Upkeep: a reconciler leases a row while it checks it with Meta, so that two
    # reconcilers (replicas) never process it twice.
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attention: Mapped[str | None] = mapped_column(Text)  # why a human must look at it
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What Slack shows of this row, level-triggered: every change bumps `version` and sets
    # `slack_due_at`; the Slack sync brings each surface up to date and then clears it.
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    changed_by_job: Mapped[int | None] = mapped_column(Integer)  # the job that moved it last
    slack_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slack_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    slack_lease_owner: Mapped[str | None] = mapped_column(String(64))
    slack_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    card_status: Mapped[str | None] = mapped_column(String(20))  # None: no card posted yet
    thread_status: Mapped[str | None] = mapped_column(String(20))  # last outcome in the thread
    requester_status: Mapped[str | None] = mapped_column(String(20))  # last told to requester
    reminders_due: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Someone other than the requester whose change was still at Meta when their work ended
    # (a crash, a lost answer): the sync tells them its end. `watched_from`: the claim.
    watcher_slack_id: Mapped[str | None] = mapped_column(SLACK_ID)
    watched_from: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        Index("ix_share_requests_agency_status", "agency_business_id", "status"),
        Index("ix_share_requests_requester_created", "requester_slack_id", "created_at"),
        Index("ix_share_requests_pixel_agency", "pixel_id", "agency_business_id"),
        Index("ix_share_requests_status_updated", "status", "updated_at"),
        Index("ix_share_requests_pending_request_id", "pending_request_id"),
        Index("ix_share_requests_slack_due_at", "slack_due_at"),
        Index("ix_share_requests_changed_by_job", "changed_by_job"),
    )


class AdAccountLink(Base):
    """An ad account linked to a pixel for a business (`/{pixel}/shared_accounts`)."""

    __tablename__ = "ad_account_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pixel_id: Mapped[str] = mapped_column(META_ID)
    business_id: Mapped[str] = mapped_column(META_ID)
    ad_account_id: Mapped[str] = mapped_column(META_ID)
    status: Mapped[str] = mapped_column(String(20))
    linked_by_slack_id: Mapped[str | None] = mapped_column(SLACK_ID)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("pixel_id", "business_id", "ad_account_id"),)


class AuditEvent(Base):
    """One attempted action and its outcome. Rows are only ever inserted."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(20))
    pixel_id: Mapped[str | None] = mapped_column(META_ID)
    business_id: Mapped[str | None] = mapped_column(META_ID)
    agency_business_id: Mapped[str | None] = mapped_column(META_ID)
    share_request_id: Mapped[int | None] = mapped_column(Integer)
    graph_code: Mapped[int | None] = mapped_column(Integer)
    fbtrace_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index("ix_audit_events_pixel_occurred", "pixel_id", "occurred_at"),
        Index("ix_audit_events_share_request_id", "share_request_id"),
        Index("ix_audit_events_occurred_at", "occurred_at"),
    )


class SlackEvent(Base):
    """An Events API delivery already handled, by event_id: Slack's retries are dropped."""

    __tablename__ = "slack_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    """Work acknowledged to Slack: written before the ack, so that no crash loses it.

    A worker claims it with a lease (a conditional UPDATE), runs it and marks it done; a
    job whose worker died is claimed again when its lease runs out and resumed.
    """

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160), unique=True)  # from Slack's payload
    surface: Mapped[str] = mapped_column(String(20))  # command, action or view
    name: Mapped[str] = mapped_column(String(40))  # the subcommand, button or form
    actor: Mapped[str] = mapped_column(SLACK_ID)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Slack's response_url is a bearer capability: stored sealed, like tokens.
    reply_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    reply_uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    told: Mapped[bool | None] = mapped_column(Boolean)  # whether the actor heard the end

    __table_args__ = (Index("ix_jobs_status_lease_until", "status", "lease_until"),)
