"""The owner takes a pixel back from an agency, or withdraws a request still pending.

Both are `DELETE /{pixel}/agencies`; Meta treats a repeat as a no-op, so a failed call
leaves our rows as they were, to be tried again. An unanswered one is checked first: when
Meta shows it done (the agency gone from the pixel, the request cancelled), it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound, PixelbotError
from bot.flows import ids
from bot.flows.access import OwnedPixel, owned_pixel
from bot.flows.audit import Outcome, record
from bot.flows.context import Context
from bot.flows.meta.errors import GraphError, outcome_unknown
from bot.flows.reconciling import readers
from bot.flows.refusals import refused
from bot.flows.sharing import reread
from bot.flows.states import ShareStatus, from_meta, transition
from bot.flows.views import MetaFailed, RequestView
from bot.store.models import ShareRequest
from bot.store.repositories import Businesses, ShareRequests

# What each kind of row becomes while the DELETE is under way, and after it.
KEPT_OPEN = (
    "Meta still shows the request pending after pixelbot removed the pixel: the agency can "
    "still accept it. Cancel it in Meta Business Settings; pixelbot keeps watching it."
)
_MOVES = {
    ShareStatus.PENDING: (ShareStatus.CANCELLING, ShareStatus.CANCELLED),
    ShareStatus.ACTIVE: (ShareStatus.REVOKING, ShareStatus.REVOKED),
}


@dataclass(frozen=True)
class UnsharePlan:
    """What `/pixel unshare` would do, shown before the user confirms."""

    pixel_id: str
    pixel_name: str
    owner_name: str
    agency_id: str
    agency_name: str | None
    shared: bool  # Meta lists the agency on the pixel now
    pending: RequestView | None  # a request still waiting, which would be cancelled


@dataclass(frozen=True)
class UnshareOutcome:
    """The rows the DELETE settled (cancelled or revoked); may be empty."""

    pixel_id: str
    agency_id: str
    requests: tuple[RequestView, ...]
    pixel_name: str | None = None
    agency_name: str | None = None


async def plan_unshare(ctx: Context, actor: str, pixel_id: str, agency_id: str) -> UnsharePlan:
    """Check the owner's admin and what exists now; raise (audited) when there is nothing."""
    try:
        ids.meta_id(pixel_id, "PIXEL_ID")
        ids.meta_id(agency_id, "AGENCY_BUSINESS_ID")
        owned = await owned_pixel(ctx, actor, pixel_id, "unshare")
        async with ctx.sessions() as session:
            rows = await _rows(session, pixel_id, agency_id)
            agency = await Businesses(session).get(agency_id)
        agencies = await _agencies(ctx, owned)
    except PixelbotError as exc:
        await refused(ctx, actor, "unshare", exc, pixel_id=pixel_id, agency_business_id=agency_id)
        raise
    listed = agencies.get(agency_id)
    pending = next((r for r in rows if r.status == ShareStatus.PENDING), None)
    if listed is None and pending is None:
        nothing = NotFound(
            f"pixel {pixel_id} is not shared with business {agency_id}, "
            "and no request to it is pending"
        )
        await refused(
            ctx, actor, "unshare", nothing, pixel_id=pixel_id, agency_business_id=agency_id
        )
        raise nothing
    name = (agency.name if agency else None) or listed or (pending.agency_name if pending else None)
    return UnsharePlan(
        pixel_id,
        owned.pixel.name,
        owned.owner.name,
        agency_id,
        name,
        listed is not None,
        RequestView.of(pending) if pending else None,
    )


async def unshare(ctx: Context, actor: str, pixel_id: str, agency_id: str) -> UnshareOutcome:
    """Confirmed: claim the open rows, DELETE at Meta, record the outcome."""
    try:
        owned = await owned_pixel(
            ctx, actor, pixel_id, "unshare"
        )  # read from Meta before the claim
        async with ctx.sessions.begin() as session:
            claimed = await _claim(session, pixel_id, agency_id, actor)
            agency = await Businesses(session).get(agency_id)
    except PixelbotError as exc:
        await refused(ctx, actor, "unshare", exc, pixel_id=pixel_id, agency_business_id=agency_id)
        raise
    owner = owned.owner
    lost: str | None = None
    try:
        await ctx.meta.unshare_pixel(owner.token, pixel_id, agency_id)
    except GraphError as error:
        applied = (
            await _applied(ctx, owned, agency_id, claimed) if outcome_unknown(error) else False
        )
        if not applied:
            # Meta cannot say yet (None): the claims stay for crash recovery to check (a
            # removal is never sent twice), and the clicker watches them (`jobs.finish`).
            keep = applied is None and bool(claimed)
            kept = await _not_done(ctx, actor, claimed, error, owned, agency_id, keep=keep)
            uncertain = keep or outcome_unknown(error)
            raise MetaFailed(
                error, owner.business_id, owner.name, kept, uncertain=uncertain
            ) from error
        # Meta shows the DELETE done though its answer was lost: it was this click's.
        lost = f"Meta applied it, though its answer was lost ({error.message[:200]})"
    still_open = await _still_open(ctx, claimed)
    async with ctx.sessions.begin() as session:
        requests = ShareRequests(session)
        for request_id, was in claimed:
            busy, done = _MOVES[was]
            if request_id in still_open:
                # Meta kept it open: pending again, so that reconcile keeps watching it.
                await transition(
                    requests, request_id, busy, was, decider_slack_id=None, attention=KEPT_OPEN
                )
                continue
            await transition(requests, request_id, busy, done, decided_at=ctx.clock())
        await record(
            session,
            actor,
            "unshare",
            Outcome.OK,
            business_id=owner.business_id,
            share_request_id=claimed[0][0] if claimed else None,
            detail="; ".join(
                part
                for part in (", ".join(f"#{i} {_MOVES[w][1]}" for i, w in claimed), lost)
                if part
            )
            or None,
            pixel_id=pixel_id,
            agency_business_id=agency_id,
        )
        views = [RequestView.of(await reread(session, i)) for i, _ in claimed]
    agency_name = agency.name if agency else next((v.agency_name for v in views), None)
    return UnshareOutcome(pixel_id, agency_id, tuple(views), owned.pixel.name, agency_name)


async def _still_open(ctx: Context, claimed: list[tuple[int, ShareStatus]]) -> set[int]:
    """The withdrawn requests Meta still shows pending after the DELETE (docs/meta.md,
    inference 3: nothing says the DELETE withdraws a pending request). A request that also
    carries other pixels of ours may stay pending for them, so it tells nothing; nor does a
    request no side can read."""
    withdrawn = [request_id for request_id, was in claimed if was is ShareStatus.PENDING]
    kept: set[int] = set()
    for request_id in withdrawn:
        async with ctx.sessions() as session:
            row = await session.get(ShareRequest, request_id)
            sides = await readers(ctx, session, row) if row is not None else []
            shared = row is not None and await _carries_others(session, row)
        if row is None or row.pending_request_id is None or shared:
            continue
        for acting in sides:
            try:
                answer = await ctx.meta.get_request(acting.token, row.pending_request_id)
            except GraphError:
                continue
            if from_meta(answer.request_status) is ShareStatus.PENDING:
                kept.add(request_id)
            break
    return kept


async def _carries_others(session: AsyncSession, row: ShareRequest) -> bool:
    """Whether another open row of ours is on the same Meta request (Meta groups pixels)."""
    others = await session.scalar(
        select(ShareRequest.id).where(
            ShareRequest.pending_request_id == row.pending_request_id,
            ShareRequest.id != row.id,
            ShareRequest.status.in_([ShareStatus.PENDING.value, ShareStatus.CANCELLING.value]),
        )
    )
    return others is not None


async def _applied(
    ctx: Context, owned: OwnedPixel, agency_id: str, claimed: list[tuple[int, ShareStatus]]
) -> bool | None:
    """After a lost answer, whether Meta shows the DELETE done: the agency is no longer on the
    pixel, and every pending request it withdrew reads cancelled. False when Meta shows it
    not done (the rows go back; a repeated DELETE is a no-op at Meta); None when Meta could
    not be asked."""
    token = owned.owner.token
    try:
        listed = await ctx.meta.list_agencies(token, owned.pixel.id)
        if any(a.id == agency_id for a in listed):
            return False
        withdrawn = [request_id for request_id, was in claimed if was is ShareStatus.PENDING]
        async with ctx.sessions() as session:
            rows = await session.scalars(
                select(ShareRequest.pending_request_id).where(ShareRequest.id.in_(withdrawn))
            )
            pending = list(rows.all())
        for request_id in pending:
            if request_id is None:
                return False
            request = await ctx.meta.get_request(token, request_id)
            if from_meta(request.request_status) is not ShareStatus.CANCELLED:
                return False
    except GraphError:
        return None
    return True


async def _rows(session: AsyncSession, pixel_id: str, agency_id: str) -> list[ShareRequest]:
    result = await session.scalars(
        select(ShareRequest)
        .where(
            ShareRequest.pixel_id == pixel_id,
            ShareRequest.agency_business_id == agency_id,
            ShareRequest.status.in_([s.value for s in _MOVES]),
        )
        .order_by(ShareRequest.id.desc())
    )
    return list(result.all())


async def _agencies(ctx: Context, owned: OwnedPixel) -> dict[str, str]:
    try:
        listed = await ctx.meta.list_agencies(owned.owner.token, owned.pixel.id)
    except GraphError as error:
        raise MetaFailed(error, owned.owner.business_id, owned.owner.name) from error
    return {a.id: a.name for a in listed}


async def _claim(
    session: AsyncSession, pixel_id: str, agency_id: str, actor: str
) -> list[tuple[int, ShareStatus]]:
    requests, claimed = ShareRequests(session), []
    for row in await _rows(session, pixel_id, agency_id):
        was = ShareStatus(row.status)
        if await transition(requests, row.id, was, _MOVES[was][0], decider_slack_id=actor):
            claimed.append((row.id, was))
    return claimed


async def _not_done(
    ctx: Context,
    actor: str,
    claimed: list[tuple[int, ShareStatus]],
    error: GraphError,
    owned: OwnedPixel,
    agency_id: str,
    *,
    keep: bool,
) -> RequestView | None:
    """Record a removal Meta did not confirm. Its claims go back as they were, or with
    `keep` stay in flight for crash recovery; then the first claimed row, as it stands."""
    async with ctx.sessions.begin() as session:
        if not keep:
            requests = ShareRequests(session)
            for request_id, was in claimed:
                await transition(requests, request_id, _MOVES[was][0], was, decider_slack_id=None)
        await record(
            session,
            actor,
            "unshare",
            Outcome.UNKNOWN if keep or outcome_unknown(error) else Outcome.FAILED,
            business_id=owned.owner.business_id,
            share_request_id=claimed[0][0] if claimed else None,
            error=error,
            pixel_id=owned.pixel.id,
            agency_business_id=agency_id,
        )
        return RequestView.of(await reread(session, claimed[0][0])) if keep else None
