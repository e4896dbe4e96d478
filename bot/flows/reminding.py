"""Requests that wait too long: reminders with growing intervals, and optional local expiry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update

from bot.errors import PixelbotError
from bot.flows.access import acting_as
from bot.flows.audit import Outcome, record
from bot.flows.context import Context
from bot.flows.meta.errors import GraphError
from bot.flows.reconciling import settle
from bot.flows.states import ShareStatus, transition
from bot.flows.views import RequestView
from bot.store.models import ShareRequest
from bot.store.repositories import ShareRequests

EXPIRY = "expiry"  # the audit actor of local expiry
BATCH = 200


@dataclass(frozen=True)
class Reminder:
    """A reminder to post in the approval message's thread, mentioning these admins."""

    request: RequestView
    admins: tuple[str, ...]
    number: int  # 1 for the first reminder


async def due_reminders(ctx: Context, first_after: timedelta) -> int:
    """Mark the reminders due now, each once whichever replica asks; how many.

    The first comes `first_after` after the request; each next one waits twice as long. The
    Slack sync posts them, and a reminder counts as sent only once Slack accepted it.
    """
    now = ctx.clock()
    async with ctx.sessions() as session:
        rows = (
            await session.execute(
                select(ShareRequest.id, ShareRequest.reminders_due)
                .where(
                    ShareRequest.status == ShareStatus.PENDING.value,
                    ShareRequest.slack_ts.is_not(None),
                    ShareRequest.created_at <= now - first_after,
                    or_(
                        ShareRequest.next_reminder_at.is_(None),
                        ShareRequest.next_reminder_at <= now,
                    ),
                )
                .order_by(ShareRequest.id)
                .limit(BATCH)
            )
        ).all()
    marked = 0
    for request_id, due in rows:
        async with ctx.sessions.begin() as session:
            claimed = await session.execute(
                update(ShareRequest)
                .where(
                    ShareRequest.id == request_id,
                    ShareRequest.status == ShareStatus.PENDING.value,
                    ShareRequest.reminders_due == due,
                )
                .values(
                    reminders_due=due + 1,
                    next_reminder_at=now + first_after * 2 ** (due + 1),
                    slack_due_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            if getattr(claimed, "rowcount", 0) == 1:
                marked += 1  # else another replica marked it, or it was decided meanwhile
    return marked


async def expire_waiting(ctx: Context, after: timedelta) -> list[RequestView]:
    """Cancel, at Meta too, requests that waited longer than `after`."""
    now = ctx.clock()
    async with ctx.sessions() as session:
        ids = (
            await session.scalars(
                select(ShareRequest.id)
                .where(
                    ShareRequest.status == ShareStatus.PENDING.value,
                    ShareRequest.created_at <= now - after,
                )
                .order_by(ShareRequest.id)
                .limit(BATCH)
            )
        ).all()
    expired = []
    for request_id in ids:
        view = await _expire(ctx, request_id, after)
        if view is not None:
            expired.append(view)
    return expired


async def _expire(ctx: Context, request_id: int, after: timedelta) -> RequestView | None:
    async with ctx.sessions.begin() as session:
        requests = ShareRequests(session)
        if not await transition(requests, request_id, ShareStatus.PENDING, ShareStatus.CANCELLING):
            return None  # decided meanwhile
        row = await requests.get(request_id)
        assert row is not None
        pixel_id, agency_id = row.pixel_id, row.agency_business_id
        try:
            owner = await acting_as(ctx, session, row.owner_business_id)
        except PixelbotError:
            owner = None
    hours = after.total_seconds() / 3600
    if owner is None:
        return await _back(ctx, request_id, None, "the owner business is not registered")
    try:
        await ctx.meta.unshare_pixel(owner.token, pixel_id, agency_id)
    except GraphError as error:
        return await _back(ctx, request_id, error, "Meta refused the cancel")
    why = f"expired: waited more than {hours:g} hours"
    return await settle(
        ctx,
        request_id,
        ShareStatus.CANCELLING,
        ShareStatus.CANCELLED,
        why,
        actor=EXPIRY,
        reason=why,
    )


async def _back(
    ctx: Context, request_id: int, error: GraphError | None, why: str
) -> RequestView | None:
    async with ctx.sessions.begin() as session:
        await transition(
            ShareRequests(session), request_id, ShareStatus.CANCELLING, ShareStatus.PENDING
        )
        await record(
            session,
            EXPIRY,
            "expire",
            Outcome.FAILED,
            share_request_id=request_id,
            error=error,
            detail=None if error else why,
        )
    return None
