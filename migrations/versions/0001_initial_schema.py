"""initial schema: businesses, admins, share requests, ad-account links, audit events

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

META_ID = sa.String(length=32)
SLACK_ID = sa.String(length=32)


def _timestamp(name: str, nullable: bool = False) -> sa.Column[sa.DateTime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "businesses",
        sa.Column("business_id", META_ID, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("approvals_channel", SLACK_ID, nullable=True),
        sa.Column("token_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("token_fingerprint", sa.String(length=32), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("business_id", name=op.f("pk_businesses")),
    )
    op.create_table(
        "business_admins",
        sa.Column("slack_user_id", SLACK_ID, nullable=False),
        sa.Column("business_id", META_ID, nullable=False),
        _timestamp("granted_at"),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.business_id"],
            name=op.f("fk_business_admins_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slack_user_id", "business_id", name=op.f("pk_business_admins")),
    )
    op.create_index("ix_business_admins_business_id", "business_admins", ["business_id"])

    op.create_table(
        "share_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pixel_id", META_ID, nullable=False),
        sa.Column("owner_business_id", META_ID, nullable=False),
        sa.Column("agency_business_id", META_ID, nullable=False),
        sa.Column("permitted_tasks", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("pending_request_id", META_ID, nullable=True),
        sa.Column("requester_slack_id", SLACK_ID, nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decider_slack_id", SLACK_ID, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("slack_channel", SLACK_ID, nullable=True),
        sa.Column("slack_ts", sa.String(length=32), nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        _timestamp("decided_at", nullable=True),
        sa.Column("graph_error_code", sa.Integer(), nullable=True),
        sa.Column("graph_error_subcode", sa.Integer(), nullable=True),
        sa.Column("graph_error_message", sa.Text(), nullable=True),
        sa.Column("graph_fbtrace_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_requests")),
        sa.UniqueConstraint(
            "pending_request_id", name=op.f("uq_share_requests_pending_request_id")
        ),
    )
    op.create_index(
        "ix_share_requests_agency_status", "share_requests", ["agency_business_id", "status"]
    )
    op.create_index(
        "ix_share_requests_requester_created",
        "share_requests",
        ["requester_slack_id", "created_at"],
    )
    op.create_index(
        "ix_share_requests_pixel_agency", "share_requests", ["pixel_id", "agency_business_id"]
    )
    op.create_index("ix_share_requests_status_updated", "share_requests", ["status", "updated_at"])

    op.create_table(
        "ad_account_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("pixel_id", META_ID, nullable=False),
        sa.Column("business_id", META_ID, nullable=False),
        sa.Column("ad_account_id", META_ID, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("linked_by_slack_id", SLACK_ID, nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ad_account_links")),
        sa.UniqueConstraint(
            "pixel_id",
            "business_id",
            "ad_account_id",
            name=op.f("uq_ad_account_links_pixel_id_business_id_ad_account_id"),
        ),
    )

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _timestamp("occurred_at"),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("pixel_id", META_ID, nullable=True),
        sa.Column("business_id", META_ID, nullable=True),
        sa.Column("agency_business_id", META_ID, nullable=True),
        sa.Column("share_request_id", sa.Integer(), nullable=True),
        sa.Column("graph_code", sa.Integer(), nullable=True),
        sa.Column("fbtrace_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    op.create_index("ix_audit_events_occurred_at", "audit_events", ["occurred_at"])
    op.create_index("ix_audit_events_pixel_occurred", "audit_events", ["pixel_id", "occurred_at"])
    op.create_index("ix_audit_events_share_request_id", "audit_events", ["share_request_id"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("ad_account_links")
    op.drop_table("share_requests")
    op.drop_table("business_admins")
    op.drop_table("businesses")
