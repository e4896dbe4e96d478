"""An agency admin approves or declines: first click wins, Meta is asked once, all is kept.

Meta groups every pixel one business asks of another into one request, so the rows that
share a `pending_request_id` are decided together.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound, PixelbotError
from bot.flows.access import Acting, NotAdmin, acting_as, admin_ids, require_admin
from bot.flows.audit import Outcome, about, record, record_conflict
from bot.flows.context import Context
from bot.flows.meta.errors import (
    GraphAnswerUnclear,
    GraphConnectionLost,
    GraphError,
    GraphTimeout,
    outcome_unknown,
)
from bot.flows.meta.types import Decision
from bot.flows.refusals import refused
from bot.flows.sharing import clean_note, reread
from bot.flows.states import ShareStatus, from_meta, transition, transition_all
from bot.flows.views import AlreadySettled, MetaFailed, RequestView
from bot.store.models import ShareRequest
from bot.store.repositories import ShareRequests

_BUSY = {Decision.APPROVE: ShareStatus.APPROVING, Decision.DECLINE: ShareStatus.DECLINING}
_DONE = {Decision.APPROVE: ShareStatus.ACTIVE, Decision.DECLINE: ShareStatus.DECLINED}


@dataclass(frozen=True)
class DecisionOutcome:
    """Every request the decision settled; the clicked one first."""

    decision: Decision
    requests: tuple[RequestView, ...]


@dataclass(frozen=True)
class _Claim:
    ids: tuple[int, ...]
    pending_request_id: str
    agency: Acting
    row: RequestView


async def decide(
    ctx: Context, actor: str, request_id: int, decision: Decision, reason: str | None = None
) -> DecisionOutcome:
    """Approve or decline request `request_id` at Meta on behalf of `actor`."""
    try:
        reason = clean_note(reason)
        async with ctx.sessions.begin() as session:
            claim = await _claim(ctx, session, actor, request_id, decision, reason)
    except PixelbotError as exc:
        await refused(ctx, actor, decision.value.lower(), exc, share_request_id=request_id)
        raise
    try:
        await ctx.meta.decide_request(claim.agency.token, claim.pending_request_id, decision)
    except GraphError as error:
        settled = await _status_at_meta(ctx, claim.agency.token, claim.pending_request_id)
        if settled is _DONE[decision] and outcome_unknown(error):
            # Meta shows what this click asked for, and its answer never said otherwise:
            # the click was applied, and its answer lost on the way back.
            lost = f"Meta applied it, though its answer was lost ({_what_was_lost(error)})"
            return await _settle(
                ctx, actor, claim, decision, _DONE[decision], Outcome.OK, error, note=lost
            )
        raise await _failed(ctx, actor, claim, decision, error, settled) from error
    return await _settle(ctx, actor, claim, decision, _DONE[decision], Outcome.OK, None)


async def _claim(
    ctx: Context,
    session: AsyncSession,
    actor: str,
    request_id: int,
    decision: Decision,
    reason: str | None,
) -> _Claim:
    requests, busy, action = ShareRequests(session), _BUSY[decision], decision.value.lower()
    row = await _may_decide(ctx, session, actor, request_id, action)
    assert row.pending_request_id is not None
    agency = await acting_as(ctx, session, row.agency_business_id, action)
    fields = {"decider_slack_id": actor, "decision_reason": reason}
    if not await transition(requests, request_id, ShareStatus.PENDING, busy, **fields):
        raise AlreadySettled(RequestView.of(await reread(session, request_id)))
    siblings = await session.scalars(
        select(ShareRequest.id).where(
            ShareRequest.pending_request_id == row.pending_request_id,
            ShareRequest.status == ShareStatus.PENDING.value,
            ShareRequest.id != request_id,
        )
    )
    claimed = [request_id]
    for sibling in siblings.all():
        if await transition(requests, sibling, ShareStatus.PENDING, busy, **fields):
            claimed.append(sibling)
    view = RequestView.of(await reread(session, request_id))
    return _Claim(tuple(claimed), row.pending_request_id, agency, view)


async def _failed(
    ctx: Context,
    actor: str,
    claim: _Claim,
    decision: Decision,
    error: GraphError,
    settled: ShareStatus | None,
) -> PixelbotError:
    """Meta said no, or did not answer, and this click is not what Meta shows done."""
    busy = _BUSY[decision]
    if settled is not None and settled is not ShareStatus.PENDING:
        # Decided elsewhere (Business Settings, expiry) before this click reached Meta.
        done = await _settle(ctx, actor, claim, decision, settled, Outcome.FAILED, error)
        return AlreadySettled(done.requests[0], found_at_meta=True)
    fields: dict[str, object] = {
        "graph_error_code": error.code,
        "graph_error_subcode": error.error_subcode,
        "graph_error_message": error.user_message[:2000],
        "graph_fbtrace_id": error.fbtrace_id,
    }
    uncertain = settled is None and outcome_unknown(error)
    action, clicked = decision.value.lower(), claim.row.id
    async with ctx.sessions.begin() as session:
        if uncertain:
            # Meta may have applied it and cannot say: the claim (and its decider) stays, as
            # a crash would leave it, for recovery to finish as Meta shows; never repeated.
            lost = await _keep_claimed(session, actor, action, claim, busy, error, fields)
        else:
            # Meta shows it still pending, or refused it outright: the click did nothing.
            fields |= {"decider_slack_id": None, "decision_reason": None}
            back = ShareStatus.PENDING
            lost = await _move_all(session, actor, action, claim, busy, back, error, fields)
        if clicked not in lost:
            outcome = Outcome.UNKNOWN if uncertain else Outcome.FAILED
            row = await reread(session, clicked)
            await record(session, actor, action, outcome, **about(row), error=error)
        view = RequestView.of(await reread(session, clicked))
    if clicked in lost:
        return AlreadySettled(view)
    agency = claim.agency
    return MetaFailed(error, agency.business_id, agency.name, view, uncertain=uncertain)


async def _keep_claimed(
    session: AsyncSession,
    actor: str,
    action: str,
    claim: _Claim,
    busy: ShareStatus,
    error: GraphError,
    fields: dict[str, object],
) -> list[int]:
    """Record the error on every claimed row, which stays `busy`; the ids that had moved."""
    requests, lost = ShareRequests(session), []
    for request_id in claim.ids:
        # The row keeps its state, so the table has no move to check.
        if not await requests.move(request_id, busy.value, busy.value, **fields):
            lost.append(request_id)
            row = await reread(session, request_id)
            await record_conflict(session, actor, action, row, busy, busy, error)
    return lost


def _what_was_lost(error: GraphError) -> str:
    """For the audit log: how Meta's answer went missing."""
    if isinstance(error, GraphAnswerUnclear) or error.http_status is not None:
        return f"HTTP {error.http_status} without a Graph error object"
    if isinstance(error, GraphConnectionLost):
        return "the connection broke before the answer"
    if isinstance(error, GraphTimeout) and error.waited is not None:
        return f"no answer within {error.waited:g} s"
    return "no answer in time"


async def _move_all(
    session: AsyncSession,
    actor: str,
    action: str,
    claim: _Claim,
    busy: ShareStatus,
    target: ShareStatus,
    error: GraphError | None,
    fields: dict[str, object],
) -> list[int]:
    """Move every claimed row; each one that had moved meanwhile is audited as a conflict."""
    lost = await transition_all(ShareRequests(session), claim.ids, busy, target, **fields)
    for request_id in lost:
        row = await reread(session, request_id)
        await record_conflict(session, actor, action, row, busy, target, error)
    return lost


async def _status_at_meta(ctx: Context, token: SecretStr, request_id: str) -> ShareStatus | None:
    """Our state for what Meta says of the request now; None when Meta cannot tell us."""
    try:
        request = await ctx.meta.get_request(token, request_id)
    except GraphError:
        return None
    return from_meta(request.request_status)


async def _settle(
    ctx: Context,
    actor: str,
    claim: _Claim,
    decision: Decision,
    target: ShareStatus,
    outcome: Outcome,
    error: GraphError | None,
    *,
    note: str | None = None,
) -> DecisionOutcome:
    busy = _BUSY[decision]
    by_meta = target is not _DONE[decision]
    fields: dict[str, object] = {"decided_at": ctx.clock()}
    if by_meta or outcome is not Outcome.OK:
        # Decided in Meta, not by this click: nobody in Slack is named as the decider.
        fields |= {"decider_slack_id": None, "decision_reason": None}
    action, clicked = decision.value.lower(), claim.row.id
    async with ctx.sessions.begin() as session:
        lost = await _move_all(session, actor, action, claim, busy, target, error, fields)
        won = [i for i in claim.ids if i not in lost]
        if won:  # audited even when the clicked row lost: the others did move
            lead = clicked if clicked in won else won[0]
            others = ", ".join(f"#{i}" for i in won if i != lead)
            row = await reread(session, lead)
            notes = [
                f"Meta already shows it {target}" if by_meta else note,
                f"together with {others}" if others else None,
            ]
            await record(
                session,
                actor,
                action,
                outcome,
                **about(row),
                error=error,
                detail="; ".join(n for n in notes if n) or None,
            )
        views = [RequestView.of(await reread(session, i)) for i in claim.ids]
    if clicked in lost:  # another pass settled it first: say so, as for a later click
        raise AlreadySettled(views[0])
    return DecisionOutcome(decision, tuple(v for v in views if v.id in won))


async def check_decider(ctx: Context, actor: str, request_id: int) -> RequestView:
    """Whether `actor` could decide the request now (before asking for a decline reason)."""
    try:
        async with ctx.sessions() as session:
            return RequestView.of(await _may_decide(ctx, session, actor, request_id, "decline"))
    except PixelbotError as exc:
        await refused(ctx, actor, "decline", exc, share_request_id=request_id)
        raise


async def _may_decide(
    ctx: Context, session: AsyncSession, actor: str, request_id: int, action: str
) -> ShareRequest:
    """The row, if `actor` may decide it now: an agency admin, not the requester, pending."""
    row = await ShareRequests(session).get(request_id)
    if row is None:
        raise NotFound(f"request #{request_id} does not exist")
    agency_id, agency_name = row.agency_business_id, row.agency_name or row.agency_business_id
    await require_admin(session, actor, agency_id, agency_name, action)
    if row.requester_slack_id == actor and not ctx.allow_self_approval:
        admins = await admin_ids(session, agency_id)
        raise NotAdmin(agency_id, agency_name, admins, action, own_request=True)
    if row.status != ShareStatus.PENDING or row.pending_request_id is None:
        raise AlreadySettled(RequestView.of(row))
    return row
