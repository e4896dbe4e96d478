"""What people have been shown of each request, and what they still must be shown.

Level-triggered: every change of a request bumps its version and marks it due
(`ShareRequests.move`). A sync worker leases due rows, brings each place up to the row's
state (the approval card, its thread, the requester's DM, reminders), records each place as
soon as it shows the new state, and clears the mark only if no change came meanwhile. Any
replica may do it; a crash between a post and its record repeats only that one post.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update

from bot.flows import jobs
from bot.flows.access import admins_of, approvals_channel
from bot.flows.context import Context
from bot.flows.states import IN_FLIGHT, ShareStatus
from bot.flows.views import RequestView
from bot.store.models import ShareRequest

# The requester hears of these when someone or something else brought the request there.
TELL_REQUESTER = frozenset(
    {
        ShareStatus.PENDING,
        ShareStatus.ACTIVE,
        ShareStatus.DECLINED,
        ShareStatus.CANCELLED,
        ShareStatus.EXPIRED,
        ShareStatus.FAILED,
        ShareStatus.REVOKED,
    }
)
# While a click is at Meta the card keeps showing what it showed before the click.
_CARD_SHOWS = {
    ShareStatus.APPROVING: ShareStatus.PENDING,
    ShareStatus.DECLINING: ShareStatus.PENDING,
    ShareStatus.CANCELLING: ShareStatus.PENDING,
    ShareStatus.REVOKING: ShareStatus.ACTIVE,
}
REDRAW = "redraw"  # card_status meaning "whatever the card shows, draw it again"


def card_state(status: ShareStatus) -> ShareStatus:
    """The state the approval card should show for a request in `status`."""
    return _CARD_SHOWS.get(status, status)


@dataclass(frozen=True)
class Due:
    """One leased row and what each place should now show."""

    request: RequestView
    version: int
    approvals_channel: str | None  # where a card is posted, if none was
    post_card: bool
    update_card: bool
    thread_reply: bool
    tell_requester: bool
    watcher: str | None  # someone to tell the end of the change they started (`jobs.finish`)
    watched_from: str | None  # the claim they started: what "the end" is the end of
    reminder: int | None  # the reminder's number, when one is due
    reminder_admins: tuple[str, ...]
    attempts: int  # how many sweeps Slack refused in a row (for the backoff)
    lease_owner: str  # this lease's own token: two leases of one process never share rows
    leased_at: float = field(default_factory=time.monotonic)


def _free(now: datetime) -> ColumnElement[bool]:
    return or_(ShareRequest.slack_lease_until.is_(None), ShareRequest.slack_lease_until < now)


async def lease_due(
    ctx: Context, worker: str, seconds: float, *, ids: Sequence[int] | None = None, limit: int = 50
) -> list[Due]:
    """Lease rows that are due (all due rows, or those of `ids`) and say what each needs."""
    now = ctx.clock()
    # Each call its own owner: a job's delivery and the loop of one process never both
    # read back the same row as theirs.
    worker = f"{worker[:50]}/{secrets.token_hex(4)}"
    where = and_(ShareRequest.slack_due_at.is_not(None), _free(now))
    where = where & (
        ShareRequest.id.in_(ids) if ids is not None else ShareRequest.slack_due_at <= now
    )
    async with ctx.sessions.begin() as session:
        picked = (
            await session.scalars(
                select(ShareRequest.id)
                .where(where)
                .order_by(ShareRequest.slack_due_at, ShareRequest.id)
                .limit(limit)
            )
        ).all()
        if not picked:
            return []
        await session.execute(
            update(ShareRequest)
            .where(ShareRequest.id.in_(picked), _free(now))
            .values(slack_lease_owner=worker, slack_lease_until=now + timedelta(seconds=seconds))
            .execution_options(synchronize_session=False)
        )
        rows = (
            await session.scalars(
                select(ShareRequest)
                .where(ShareRequest.id.in_(picked), ShareRequest.slack_lease_owner == worker)
                .order_by(ShareRequest.id)
                .execution_options(populate_existing=True)
            )
        ).all()
    busy_jobs = await jobs.still_running(
        ctx, {row.changed_by_job for row in rows if row.changed_by_job is not None}
    )
    return [await _due(ctx, row, busy_jobs, worker) for row in rows]


async def _due(ctx: Context, row: ShareRequest, busy_jobs: set[int], owner: str) -> Due:
    status = ShareStatus(row.status)
    shows = card_state(status)
    has_card = row.slack_ts is not None
    channel = None
    if not has_card and status is ShareStatus.PENDING:
        channel = await approvals_channel(ctx, row.agency_business_id)
    settled = shows is not ShareStatus.PENDING
    # The job that made the change tells its own user; the requester hears after it ends.
    job_busy = row.changed_by_job in busy_jobs
    tell = status in TELL_REQUESTER and row.requester_status != status.value and not job_busy
    watcher = None if status in IN_FLIGHT or job_busy else row.watcher_slack_id
    reminder = None
    admins: tuple[str, ...] = ()
    if status is ShareStatus.PENDING and has_card and row.reminders_sent < row.reminders_due:
        reminder = row.reminders_due
        admins = tuple(await admins_of(ctx, row.agency_business_id))
    return Due(
        request=RequestView.of(row),
        version=row.version,
        approvals_channel=channel,
        post_card=channel is not None,
        update_card=has_card and row.card_status != shows.value,
        thread_reply=has_card and settled and row.thread_status != shows.value,
        tell_requester=tell,
        watcher=watcher,
        watched_from=row.watched_from if watcher else None,
        reminder=reminder,
        reminder_admins=admins,
        attempts=row.slack_attempts,
        lease_owner=owner,
    )


@dataclass(frozen=True)
class CardPlace:
    """Where a request's card is, and whether Slack still lags behind the row."""

    channel: str | None
    due: bool


async def card_of(ctx: Context, request_id: int) -> CardPlace:
    """Where the request's approval card was posted (None: not posted)."""
    async with ctx.sessions() as session:
        row = await session.get(ShareRequest, request_id)
    if row is None or row.slack_ts is None:
        return CardPlace(None, row is not None and row.slack_due_at is not None)
    return CardPlace(row.slack_channel, row.slack_due_at is not None)


async def views_of(ctx: Context, request_ids: Sequence[int]) -> list[RequestView]:
    """The requests as they stand now, by id."""
    async with ctx.sessions() as session:
        rows = await session.scalars(
            select(ShareRequest).where(ShareRequest.id.in_(request_ids)).order_by(ShareRequest.id)
        )
        return [RequestView.of(row) for row in rows.all()]


async def _set(ctx: Context, request_id: int, **values: Any) -> None:
    async with ctx.sessions.begin() as session:
        await session.execute(
            update(ShareRequest)
            .where(ShareRequest.id == request_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


async def card_posted(ctx: Context, due: Due, channel: str, ts: str) -> None:
    """The card is in `channel` at `ts`, showing the request as it was leased."""
    shows = card_state(ShareStatus(due.request.status)).value
    await _set(ctx, due.request.id, slack_channel=channel, slack_ts=ts, card_status=shows)


async def card_updated(ctx: Context, due: Due) -> None:
    """The card shows the leased state (or will never be drawn again: deleted, say)."""
    await _set(ctx, due.request.id, card_status=card_state(ShareStatus(due.request.status)).value)


async def thread_replied(ctx: Context, due: Due) -> None:
    """The thread has the reply for the leased state."""
    shows = card_state(ShareStatus(due.request.status)).value
    await _set(ctx, due.request.id, thread_status=shows)


async def requester_told(ctx: Context, due: Due) -> None:
    """The requester heard of the leased state."""
    await _set(ctx, due.request.id, requester_status=due.request.status)


async def watcher_told(ctx: Context, due: Due) -> None:
    """The watcher heard the end of their change: they watch no more."""
    async with ctx.sessions.begin() as session:
        await session.execute(
            update(ShareRequest)
            .where(ShareRequest.id == due.request.id, ShareRequest.watcher_slack_id == due.watcher)
            .values(watcher_slack_id=None, watched_from=None)
            .execution_options(synchronize_session=False)
        )


async def watched(ctx: Context, request_ids: Sequence[int]) -> set[int]:
    """Those of these requests someone watches: the sync tells them the end."""
    if not request_ids:
        return set()
    async with ctx.sessions() as session:
        found = await session.scalars(
            select(ShareRequest.id).where(
                ShareRequest.id.in_(request_ids), ShareRequest.watcher_slack_id.is_not(None)
            )
        )
        return set(found.all())


async def reminder_sent(ctx: Context, due: Due) -> None:
    """Slack accepted the reminder: only now does it count as sent."""
    assert due.reminder is not None
    await _set(ctx, due.request.id, reminders_sent=due.reminder)


async def synced(ctx: Context, due: Due) -> None:
    """Every place shows the leased version: clear the mark, unless a change came since."""
    async with ctx.sessions.begin() as session:
        await session.execute(
            update(ShareRequest)
            .where(ShareRequest.id == due.request.id, ShareRequest.version == due.version)
            .values(slack_due_at=None, slack_attempts=0)
            .execution_options(synchronize_session=False)
        )
        await _release(session, due.request.id, due.lease_owner)


async def retry_later(ctx: Context, due: Due, at: datetime) -> None:
    """Slack did not take it now: try this row again at `at`."""
    async with ctx.sessions.begin() as session:
        await session.execute(
            update(ShareRequest)
            .where(ShareRequest.id == due.request.id, ShareRequest.slack_due_at.is_not(None))
            .values(slack_due_at=at, slack_attempts=ShareRequest.slack_attempts + 1)
            .execution_options(synchronize_session=False)
        )
        await _release(session, due.request.id, due.lease_owner)


async def release(ctx: Context, due: Due) -> None:
    """Give the row back untouched (it stays due)."""
    async with ctx.sessions.begin() as session:
        await _release(session, due.request.id, due.lease_owner)


async def _release(session: Any, request_id: int, owner: str) -> None:
    await session.execute(
        update(ShareRequest)
        .where(ShareRequest.id == request_id, ShareRequest.slack_lease_owner == owner)
        .values(slack_lease_owner=None, slack_lease_until=None)
        .execution_options(synchronize_session=False)
    )


async def redraw(ctx: Context, request_id: int) -> None:
    """Draw the card again whatever it is believed to show (a later click found it settled,
    so what the clicker saw was stale)."""
    async with ctx.sessions.begin() as session:
        await session.execute(
            update(ShareRequest)
            .where(ShareRequest.id == request_id, ShareRequest.slack_ts.is_not(None))
            # A new version, so that a sync holding the row now does not clear the mark.
            .values(
                card_status=REDRAW,
                slack_due_at=ctx.clock(),
                version=ShareRequest.version + 1,
            )
            .execution_options(synchronize_session=False)
        )


async def remind(ctx: Context, request_id: int, number: int) -> None:
    """Reminder `number` is due for the request: the sync posts it."""
    await _set(ctx, request_id, reminders_due=number, slack_due_at=ctx.clock())
