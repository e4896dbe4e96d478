"""Finish what a crash interrupted: claims that sat in flight longer than the lease.

Meta is asked what happened and the transition is finished accordingly; the call that was
under way is never repeated. When Meta cannot tell, the row is marked for attention.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, func, select

from bot.errors import PixelbotError
from bot.flows import jobs
from bot.flows.access import Acting, acting_as
from bot.flows.audit import Outcome, about, record
from bot.flows.context import Context
from bot.flows.leases import leased_chunks
from bot.flows.meta.errors import GraphError
from bot.flows.meta.types import SharingRequest
from bot.flows.reconciling import RECONCILER, readers, settle
from bot.flows.sharing import reread
from bot.flows.states import IN_FLIGHT, ShareStatus, from_meta, transition
from bot.flows.views import RequestView
from bot.store.models import ShareRequest
from bot.store.repositories import ShareRequests

log = logging.getLogger(__name__)

_DONE = {
    ShareStatus.APPROVING: ShareStatus.ACTIVE,
    ShareStatus.DECLINING: ShareStatus.DECLINED,
    ShareStatus.CANCELLING: ShareStatus.CANCELLED,
}


@dataclass
class RecoveryReport:
    """Claims finished, given back, or left for a human."""

    finished: list[RequestView] = field(default_factory=list)  # settled as Meta shows
    reopened: list[RequestView] = field(default_factory=list)  # back to pending or active
    submitted: list[RequestView] = field(default_factory=list)  # a share found pending
    attention: list[RequestView] = field(default_factory=list)  # newly marked
    interrupted: list[tuple[RequestView, str]] = field(default_factory=list)  # (row, clicker)


class CannotTell(Exception):
    """Meta's answer does not say what became of the interrupted call."""


async def recover(ctx: Context, worker: str, claim_lease: float) -> RecoveryReport:
    """Resolve every claim older than `claim_lease` seconds."""
    report = RecoveryReport()
    stale = and_(
        ShareRequest.status.in_([s.value for s in IN_FLIGHT]),
        ShareRequest.updated_at < ctx.clock() - timedelta(seconds=claim_lease),
    )
    async for rows in leased_chunks(ctx, worker, stale, claim_lease):
        for row in rows:
            try:
                await _resolve(ctx, row, report)
            except (CannotTell, GraphError, PixelbotError) as problem:
                await _attention(ctx, row, str(problem), report)
    return report


async def _resolve(ctx: Context, row: ShareRequest, report: RecoveryReport) -> None:
    status = ShareStatus(row.status)
    if status is ShareStatus.SUBMITTING:
        await _submitting(ctx, row, report)
    elif status is ShareStatus.REVOKING:
        await _revoking(ctx, row, report)
    else:
        await _deciding(ctx, row, status, report)


async def _deciding(
    ctx: Context, row: ShareRequest, status: ShareStatus, report: RecoveryReport
) -> None:
    """Approving, declining or cancelling: what does Meta say of the request now?"""
    async with ctx.sessions() as session:
        sides = await readers(ctx, session, row)
    if not sides or row.pending_request_id is None:
        raise CannotTell("no registered business can read the request at Meta")
    answer = await _read_request(ctx, sides, row.pending_request_id)
    target = from_meta(answer.request_status)
    if target is None:
        raise CannotTell(f"Meta reports an unknown status {answer.request_status!r}")
    if target is not ShareStatus.PENDING:
        # Meta shows what the claim asked for: its call was applied, so its clicker decided
        # (named as usual); any other outcome was decided at Meta, by nobody in Slack.
        ours = _DONE[status] is target
        claim = f"{status} by {row.decider_slack_id or 'nobody on record'}"
        why = f"recovered: Meta shows it {answer.request_status}" + (
            f", as the claim ({claim}) asked" if ours else f", not what the claim ({claim}) asked"
        )
        view = await settle(ctx, row.id, status, target, why, keep_decider=ours)
        _add(report.finished, view)
        return
    if status is ShareStatus.CANCELLING and await _shared_by_others(
        ctx, row.pending_request_id, row.id
    ):
        # The request still holds other pixels: whether ours left it, Meta cannot say.
        raise CannotTell("Meta still shows the request pending with other pixels in it")
    decider = row.decider_slack_id
    told = await _told_by_sync(ctx, row)
    view = await _move(ctx, row, status, ShareStatus.PENDING, "Meta shows it pending", **told)
    _add(report.reopened, view)
    if view is not None and decider is not None:
        report.interrupted.append((view, decider))


async def _read_request(ctx: Context, sides: list[Acting], request_id: str) -> SharingRequest:
    """The request as the first side that may read it sees it (the last side's error)."""
    for acting in sides[:-1]:
        try:
            return await ctx.meta.get_request(acting.token, request_id)
        except GraphError:
            continue
    return await ctx.meta.get_request(sides[-1].token, request_id)


async def _told_by_sync(ctx: Context, row: ShareRequest) -> dict[str, object]:
    """The clicker of an interrupted claim becomes the row's watcher, in the move's own
    transaction (so the Slack sync tells them where it ended, once, until Slack has it),
    unless their click is still to be resumed: the resumed job tells them then."""
    if row.decider_slack_id is None or await jobs.awaited(ctx, [row.id]):
        return {}
    return {"watcher_slack_id": row.decider_slack_id, "watched_from": row.status}


async def _revoking(ctx: Context, row: ShareRequest, report: RecoveryReport) -> None:
    async with ctx.sessions() as session:
        owner = await acting_as(ctx, session, row.owner_business_id)
    agencies = {a.id for a in await ctx.meta.list_agencies(owner.token, row.pixel_id)}
    if row.agency_business_id in agencies:
        told = await _told_by_sync(ctx, row)
        _add(
            report.reopened,
            await _move(ctx, row, ShareStatus.REVOKING, ShareStatus.ACTIVE, "still shared", **told),
        )
    else:
        why = "recovered: the agency is no longer on the pixel"
        _add(
            report.finished,
            await settle(
                ctx, row.id, ShareStatus.REVOKING, ShareStatus.REVOKED, why, keep_decider=True
            ),
        )


async def _submitting(ctx: Context, row: ShareRequest, report: RecoveryReport) -> None:
    """Shared already, pending at Meta, or never arrived."""
    async with ctx.sessions() as session:
        owner = await acting_as(ctx, session, row.owner_business_id)
    agencies = await ctx.meta.list_agencies(owner.token, row.pixel_id)
    granted = next((a for a in agencies if a.id == row.agency_business_id), None)
    if granted is not None and set(row.permitted_tasks) <= set(granted.permitted_tasks):
        why = "recovered: Meta shows the pixel shared"
        _add(
            report.finished,
            await settle(
                ctx, row.id, ShareStatus.SUBMITTING, ShareStatus.ACTIVE, why, keep_decider=True
            ),
        )
        return
    # Every status Meta has not settled counts as open, IN_PROGRESS and PENDING_* included
    # (docs/meta.md, inference 6): filtered here rather than by one status at Meta.
    initiated = await ctx.meta.list_initiated_requests(
        owner.token, owner.business_id, receiving_business_id=row.agency_business_id
    )
    pending = [r for r in initiated if from_meta(r.request_status) is ShareStatus.PENDING]
    if len(pending) > 1:
        raise CannotTell("Meta shows several pending requests to that agency")
    if pending:
        fields = {"pending_request_id": pending[0].id}
        _add(
            report.submitted,
            await _move(
                ctx, row, ShareStatus.SUBMITTING, ShareStatus.PENDING, "found at Meta", **fields
            ),
        )
        return
    fields = {"graph_error_message": "Meta has no trace of it: the share never reached Meta"}
    _add(
        report.finished,
        await _move(ctx, row, ShareStatus.SUBMITTING, ShareStatus.FAILED, "not at Meta", **fields),
    )


async def _shared_by_others(ctx: Context, pending_request_id: str, row_id: int) -> bool:
    """Whether other rows of ours carry that Meta request (Meta groups pixels per request)."""
    async with ctx.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ShareRequest)
            .where(
                ShareRequest.pending_request_id == pending_request_id,
                ShareRequest.id != row_id,
            )
        )
    return bool(count)


async def _move(
    ctx: Context,
    row: ShareRequest,
    current: ShareStatus,
    target: ShareStatus,
    why: str,
    **fields: object,
) -> RequestView | None:
    """A recovery move that is not a decision (back to where it was, or onwards)."""
    if target in (ShareStatus.PENDING, ShareStatus.ACTIVE):
        fields = {"decider_slack_id": None, "decision_reason": None, **fields}
    async with ctx.sessions.begin() as session:
        moved = await transition(
            ShareRequests(session), row.id, current, target, attention=None, **fields
        )
        if not moved:
            return None
        fresh = await reread(session, row.id)
        await record(
            session,
            RECONCILER,
            "recover",
            Outcome.OK,
            **about(fresh),
            detail=f"{current} -> {target}: {why}",
        )
        return RequestView.of(fresh)


async def _attention(ctx: Context, row: ShareRequest, why: str, report: RecoveryReport) -> None:
    """Flag the row once (and say so); it stays in flight for a human to look at."""
    log.warning("recover: request %s (%s) needs attention: %s", row.id, row.status, why)
    if row.attention is not None:
        return
    async with ctx.sessions.begin() as session:
        requests = ShareRequests(session)
        if not await requests.move(row.id, row.status, row.status, attention=why[:1000]):
            return
        fresh = await reread(session, row.id)
        await record(
            session,
            RECONCILER,
            "recover",
            Outcome.UNKNOWN,
            **about(fresh),
            detail=why,
        )
        report.attention.append(RequestView.of(fresh))


def _add(bucket: list[RequestView], view: RequestView | None) -> None:
    if view is not None:
        bucket.append(view)
