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
from bot.flows.access import Acting, Refused, acting_as, require_admin, who_can_act
from bot.flows.audit import Outcome, record
from bot.flows.context import Context
from bot.flows.meta.errors import GraphError, outcome_unknown
from bot.flows.meta.types import Decision
from bot.flows.refusals import refused
from bot.flows.sharing import clean_note, reread
from bot.flows.states import ShareStatus, from_meta, transition
from bot.flows.views import AlreadySettled, MetaFailed, RequestView
from bot.store.models import ShareRequest
from bot.store.repositories import ShareRequests

S = ShareStatus
_BUSY = {Decision.APPROVE: S.APPROVING, Decision.DECLINE: S.DECLINING}
_DONE = {Decision.APPROVE: S.ACTIVE, Decision.DECLINE: S.DECLINED}


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
    busy = _BUSY[decision]
    try:
        reason = clean_note(reason)
        async with ctx.sessions.begin() as session:
            claim = await _claim(ctx, session, actor, request_id, busy, reason)
    except PixelbotError as exc:
        await refused(ctx, actor, decision.value.lower(), exc, share_request_id=request_id)
        raise
    try:
        await ctx.meta.decide_request(claim.agency.token, claim.pending_request_id, decision)
    except GraphError as error:
        raise await _failed(ctx, actor, claim, decision, error) from error
    return await _settle(ctx, actor, claim, decision, _DONE[decision], Outcome.OK, None)


async def _claim(
    ctx: Context,
    session: AsyncSession,
    actor: str,
    request_id: int,
    busy: ShareStatus,
    reason: str | None,
) -> _Claim:
    requests = ShareRequests(session)
    row = await _may_decide(ctx, session, actor, request_id)
    assert row.pending_request_id is not None
    agency = await acting_as(ctx, session, row.agency_business_id)
    fields = {"decider_slack_id": actor, "decision_reason": reason}
    if not await transition(requests, request_id, S.PENDING, busy, **fields):
        raise AlreadySettled(RequestView.of(await reread(session, request_id)))
    siblings = await session.scalars(
        select(ShareRequest.id).where(
            ShareRequest.pending_request_id == row.pending_request_id,
            ShareRequest.status == S.PENDING.value,
            ShareRequest.id != request_id,
        )
    )
    claimed = [request_id]
    for sibling in siblings.all():
        if await transition(requests, sibling, S.PENDING, busy, **fields):
            claimed.append(sibling)
    view = RequestView.of(await reread(session, request_id))
    return _Claim(tuple(claimed), row.pending_request_id, agency, view)


async def _failed(
    ctx: Context, actor: str, claim: _Claim, decision: Decision, error: GraphError
) -> PixelbotError:
    """Meta said no, or did not answer: ask Meta where the request stands before anything."""
    settled = await _status_at_meta(ctx, claim.agency.token, claim.pending_request_id)
    busy = _BUSY[decision]
    if settled is not None and settled is not S.PENDING:
        # Decided elsewhere (Business Settings, expiry) before this click reached Meta.
        outcome = await _settle(ctx, actor, claim, decision, settled, Outcome.FAILED, error)
        return AlreadySettled(outcome.requests[0], found_at_meta=True)
    # Still pending (or Meta cannot say): the click did nothing; let it be tried again.
    fields = {
        "decider_slack_id": None,
        "decision_reason": None,
        "graph_error_code": error.code,
        "graph_error_subcode": error.error_subcode,
        "graph_error_message": error.user_message[:2000],
        "graph_fbtrace_id": error.fbtrace_id,
    }
    uncertain = settled is None and outcome_unknown(error)
    async with ctx.sessions.begin() as session:
        requests = ShareRequests(session)
        for request_id in claim.ids:
            await transition(requests, request_id, busy, S.PENDING, **fields)
        await record(
            session,
            actor,
            decision.value.lower(),
            Outcome.UNKNOWN if uncertain else Outcome.FAILED,
            pixel_id=claim.row.pixel_id,
            business_id=claim.row.owner_business_id,
            agency_business_id=claim.row.agency_business_id,
            share_request_id=claim.row.id,
            error=error,
        )
        view = RequestView.of(await reread(session, claim.row.id))
    agency = claim.agency
    return MetaFailed(error, agency.business_id, agency.name, view, uncertain=uncertain)


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
) -> DecisionOutcome:
    busy = _BUSY[decision]
    by_meta = target is not _DONE[decision]
    fields: dict[str, object] = {"decided_at": ctx.clock()}
    if by_meta or outcome is not Outcome.OK:
        # Decided in Meta, not by this click: nobody in Slack is named as the decider.
        fields |= {"decider_slack_id": None, "decision_reason": None}
    async with ctx.sessions.begin() as session:
        requests = ShareRequests(session)
        for request_id in claim.ids:
            await transition(requests, request_id, busy, target, **fields)
        others = [f"#{i}" for i in claim.ids[1:]]
        await record(
            session,
            actor,
            decision.value.lower(),
            outcome,
            pixel_id=claim.row.pixel_id,
            business_id=claim.row.owner_business_id,
            agency_business_id=claim.row.agency_business_id,
            share_request_id=claim.row.id,
            error=error,
            detail=(f"Meta already shows it {target}" if by_meta else None)
            or (f"together with {', '.join(others)}" if others else None),
        )
        views = [RequestView.of(await reread(session, i)) for i in claim.ids]
    return DecisionOutcome(decision, tuple(views))


async def check_decider(ctx: Context, actor: str, request_id: int) -> RequestView:
    """Whether `actor` could decide the request now (before asking for a decline reason)."""
    try:
        async with ctx.sessions() as session:
            return RequestView.of(await _may_decide(ctx, session, actor, request_id))
    except PixelbotError as exc:
        await refused(ctx, actor, "decline", exc, share_request_id=request_id)
        raise


async def _may_decide(
    ctx: Context, session: AsyncSession, actor: str, request_id: int
) -> ShareRequest:
    """The row, if `actor` may decide it now: an agency admin, not the requester, pending."""
    row = await ShareRequests(session).get(request_id)
    if row is None:
        raise NotFound(f"request #{request_id} does not exist")
    agency_name = row.agency_name or row.agency_business_id
    await require_admin(session, actor, row.agency_business_id, agency_name)
    if row.requester_slack_id == actor and not ctx.allow_self_approval:
        admins = await who_can_act(session, row.agency_business_id, agency_name)
        raise Refused(
            f"You asked for this share yourself, so someone else must decide it. {admins}"
        )
    if row.status != S.PENDING or row.pending_request_id is None:
        raise AlreadySettled(RequestView.of(row))
    return row
