"""Queries over the tables. Repositories flush but never commit: the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.acting import ACTING_JOB
from bot.store.models import AuditEvent, Business, BusinessAdmin, ShareRequest, utcnow


class Businesses:
    """Registered businesses."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, business_id: str) -> Business | None:
        """The business, or None."""
        return await self.session.get(Business, business_id)

    async def all(self) -> Sequence[Business]:
        """Every business, by name."""
        result = await self.session.scalars(select(Business).order_by(Business.name))
        return result.all()

    async def add(self, business: Business) -> None:
        """Insert a new business."""
        self.session.add(business)
        await self.session.flush()

    async def remove(self, business_id: str) -> None:
        """Delete a business and, by cascade, its admin grants."""
        await self.session.execute(
            delete(BusinessAdmin).where(BusinessAdmin.business_id == business_id)
        )
        await self.session.execute(delete(Business).where(Business.business_id == business_id))


class Admins:
    """Who may act for which business."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, slack_user_id: str, business_id: str) -> BusinessAdmin | None:
        """The grant, or None."""
        return await self.session.get(BusinessAdmin, (slack_user_id, business_id))

    async def grant(self, slack_user_id: str, business_id: str) -> None:
        """Insert a grant."""
        self.session.add(BusinessAdmin(slack_user_id=slack_user_id, business_id=business_id))
        await self.session.flush()

    async def revoke(self, slack_user_id: str, business_id: str) -> None:
        """Delete a grant."""
        await self.session.execute(
            delete(BusinessAdmin).where(
                BusinessAdmin.slack_user_id == slack_user_id,
                BusinessAdmin.business_id == business_id,
            )
        )

    async def list(self, business_id: str | None = None) -> Sequence[BusinessAdmin]:
        """Grants, of one business or all, by business then user."""
        query = select(BusinessAdmin).order_by(
            BusinessAdmin.business_id, BusinessAdmin.slack_user_id
        )
        if business_id is not None:
            query = query.where(BusinessAdmin.business_id == business_id)
        return (await self.session.scalars(query)).all()


@dataclass(frozen=True)
class AuditEntry:
    """What one audit row records; the repository stamps the time."""

    actor: str
    action: str
    outcome: str
    pixel_id: str | None = None
    business_id: str | None = None
    agency_business_id: str | None = None
    share_request_id: int | None = None
    graph_code: int | None = None
    fbtrace_id: str | None = None
    detail: str | None = None


class AuditLog:
    """The append-only audit trail: there is deliberately no update or delete here."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, entry: AuditEntry) -> None:
        """Record one event."""
        self.session.add(AuditEvent(**entry.__dict__))
        await self.session.flush()


class ShareRequests:
    """Share requests; every status change is a conditional UPDATE, so the first writer wins."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, request_id: int) -> ShareRequest | None:
        """The request, or None."""
        return await self.session.get(ShareRequest, request_id)

    async def add(self, request: ShareRequest) -> ShareRequest:
        """Insert a new request and give it its id."""
        request.changed_by_job = ACTING_JOB.get()
        self.session.add(request)
        await self.session.flush()
        return request

    async def move(self, request_id: int, expected: str, target: str, **fields: Any) -> bool:
        """Set status `target` (and `fields`) only if the row is still `expected`.

        Returns whether this call made the change; False means someone else moved it first.
        Every change is a new version that Slack must be brought up to (`slack_due_at`).
        """
        now = utcnow()
        job = ACTING_JOB.get()
        # A move outside any job (recovery, reconcile) keeps the job that changed the row
        # last: when that job is resumed it must still see that it got this far.
        by_job = {} if job is None else {"changed_by_job": job}
        result = await self.session.execute(
            update(ShareRequest)
            .where(ShareRequest.id == request_id, ShareRequest.status == expected)
            .values(
                status=target,
                updated_at=now,
                version=ShareRequest.version + 1,
                slack_due_at=now,
                slack_attempts=0,
                **by_job,
                **fields,
            )
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)
