"""Share a pixel with an agency: record the intent, ask Meta, record what Meta said."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import InvalidInput, PixelbotError
from bot.flows import ids
from bot.flows.access import OwnedPixel, owned_pixel
from bot.flows.audit import Outcome, about, record, record_conflict
from bot.flows.context import Context
from bot.flows.meta.errors import GraphError, GraphInvalidParameter, outcome_unknown
from bot.flows.meta.types import ShareResult
from bot.flows.meta.types import ShareStatus as MetaShare
from bot.flows.refusals import refused
from bot.flows.states import OPEN, ShareStatus, transition
from bot.flows.tasks import parse_tasks
from bot.flows.views import AlreadyOpen, AlreadySettled, MetaFailed, RequestView
from bot.store.models import ShareRequest
from bot.store.repositories import Businesses, ShareRequests

MAX_NOTE = 1000
NAME_LIMIT = 200


@dataclass(frozen=True)
class ShareOutcome:
    """The stored request after Meta answered, and where its approval should go."""

    request: RequestView
    approvals_channel: str | None  # the agency's channel, when it is registered with one
    agency_registered: bool

    @property
    def approval_channel(self) -> str | None:
        """Where the Approve/Decline message goes: only a request waiting for the agency's
        decision is posted, and only to a channel the agency registered."""
        if self.request.status != ShareStatus.PENDING:
            return None
        return self.approvals_channel


@dataclass(frozen=True)
class _Plan:
    owned: OwnedPixel
    agency_name: str | None
    approvals_channel: str | None
    agency_registered: bool


def clean_note(note: str | None) -> str | None:
    """A note as stored: trimmed, None when empty, refused when too long."""
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"the note is {len(text)} characters; at most {MAX_NOTE}")
    return text or None


async def share(
    ctx: Context,
    actor: str,
    pixel_id: str,
    agency_id: str,
    tasks: Sequence[str],
    note: str | None = None,
) -> ShareOutcome:
    """Share `pixel_id` with `agency_id`; raise a PixelbotError (audited) when refused."""
    try:
        ids.meta_id(pixel_id, "PIXEL_ID")
        ids.meta_id(agency_id, "AGENCY_BUSINESS_ID")
        chosen = sorted({t.value for t in parse_tasks(list(tasks))})
        note = clean_note(note)
        plan = await _plan(ctx, actor, pixel_id, agency_id)
    except PixelbotError as exc:
        await refused(ctx, actor, "share", exc, pixel_id=pixel_id, agency_business_id=agency_id)
        raise
    request_id = await _record_intent(ctx, actor, plan, agency_id, chosen, note)
    try:
        result = await ctx.meta.share_pixel(plan.owned.owner.token, pixel_id, agency_id, chosen)
    except GraphError as error:
        raise await _failed(ctx, actor, request_id, plan, error) from error
    return await _answered(ctx, actor, request_id, plan, result, chosen)


async def _answered(
    ctx: Context, actor: str, request_id: int, plan: _Plan, result: ShareResult, chosen: list[str]
) -> ShareOutcome:
    """Record Meta's yes; a row moved meanwhile (e.g. by recovery) is a conflict, not `ok`."""
    pending = result.status is MetaShare.PENDING
    target = ShareStatus.PENDING if pending else ShareStatus.ACTIVE
    fields: dict[str, object] = (
        {"pending_request_id": result.pending_request_id}
        if pending
        else {"decided_at": ctx.clock()}
    )
    async with ctx.sessions.begin() as session:
        requests = ShareRequests(session)
        moved = await transition(requests, request_id, ShareStatus.SUBMITTING, target, **fields)
        row = await reread(session, request_id)
        if not moved:
            await record_conflict(session, actor, "share", row, ShareStatus.SUBMITTING, target)
        else:
            meta = f"; Meta request {row.pending_request_id}" if row.pending_request_id else ""
            outcome = Outcome.PENDING if pending else Outcome.OK
            detail = f"tasks {','.join(chosen)}{meta}"
            await record(session, actor, "share", outcome, **about(row), detail=detail)
        view = RequestView.of(row)
    if not moved:
        raise AlreadySettled(view)
    return ShareOutcome(view, plan.approvals_channel, plan.agency_registered)


async def _plan(ctx: Context, actor: str, pixel_id: str, agency_id: str) -> _Plan:
    owned = await owned_pixel(ctx, actor, pixel_id, "share")
    if agency_id == owned.owner.business_id:
        raise InvalidInput(f"{owned.owner.name} owns pixel {pixel_id}; it cannot share with itself")
    async with ctx.sessions() as session:
        open_row = await session.scalar(
            select(ShareRequest)
            .where(
                ShareRequest.pixel_id == pixel_id,
                ShareRequest.agency_business_id == agency_id,
                ShareRequest.status.in_([s.value for s in OPEN]),
            )
            .limit(1)
        )
        if open_row is not None:
            raise AlreadyOpen(pixel_id, agency_id, open_row.id, open_row.status)
        agency = await Businesses(session).get(agency_id)
    if agency is not None:
        return _Plan(owned, agency.name, agency.approvals_channel, True)
    return _Plan(owned, await _meta_name(ctx, owned, agency_id), None, False)


async def _meta_name(ctx: Context, owned: OwnedPixel, agency_id: str) -> str | None:
    """Meta's name for an unregistered agency; an id Meta does not know is refused."""
    try:
        return (await ctx.meta.get_business(owned.owner.token, agency_id)).name or None
    except GraphInvalidParameter as error:
        raise InvalidInput(f"Meta knows no business {agency_id}: {error.user_message}") from None
    except GraphError:  # the name is a nicety; Meta's answer to the share is what counts
        return None


async def _record_intent(
    ctx: Context, actor: str, plan: _Plan, agency_id: str, tasks: list[str], note: str | None
) -> int:
    """Committed before Meta is called: a request that reaches Meta is never missing here."""
    pixel, owner = plan.owned.pixel, plan.owned.owner
    async with ctx.sessions.begin() as session:
        row = await ShareRequests(session).add(
            ShareRequest(
                pixel_id=pixel.id or "",
                owner_business_id=owner.business_id,
                agency_business_id=agency_id,
                permitted_tasks=tasks,
                status=ShareStatus.SUBMITTING.value,
                requester_slack_id=actor,
                note=note,
                pixel_name=(pixel.name or None) and pixel.name[:NAME_LIMIT],
                owner_name=owner.name[:NAME_LIMIT],
                agency_name=plan.agency_name and plan.agency_name[:NAME_LIMIT],
            )
        )
        return row.id


async def _failed(
    ctx: Context, actor: str, request_id: int, plan: _Plan, error: GraphError
) -> PixelbotError:
    """Record Meta's refusal; without an answer the row stays `submitting` to be checked."""
    uncertain = outcome_unknown(error)
    fields = {
        "graph_error_code": error.code,
        "graph_error_subcode": error.error_subcode,
        "graph_error_message": error.user_message[:2000],
        "graph_fbtrace_id": error.fbtrace_id,
    }
    submitting = ShareStatus.SUBMITTING
    target = submitting if uncertain else ShareStatus.FAILED
    async with ctx.sessions.begin() as session:
        requests = ShareRequests(session)
        if uncertain:  # the row keeps its state, so the table has no move to check
            moved = await requests.move(request_id, submitting.value, submitting.value, **fields)
        else:
            moved = await transition(requests, request_id, submitting, target, **fields)
        row = await reread(session, request_id)
        if not moved:
            await record_conflict(session, actor, "share", row, submitting, target, error)
        else:
            outcome = Outcome.UNKNOWN if uncertain else Outcome.FAILED
            await record(session, actor, "share", outcome, **about(row), error=error)
        view = RequestView.of(row)
    if not moved:
        return AlreadySettled(view)
    owner = plan.owned.owner
    return MetaFailed(error, owner.business_id, owner.name, view, uncertain=uncertain)


async def reread(session: AsyncSession, request_id: int) -> ShareRequest:
    """The row as the database has it now (conditional UPDATEs bypass the identity map)."""
    row = await session.scalar(
        select(ShareRequest)
        .where(ShareRequest.id == request_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row
