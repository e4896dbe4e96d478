"""Bring the database in line with Meta, which owns every request and changes behind our back.

Pending requests are read back in Graph batches of 50 (paced by the usage headers):
approved, declined, expired or cancelled elsewhere, they settle here too. Active shares
whose agency no longer appears on the pixel become revoked. A `request_status` we do not
know is logged and left pending: never guessed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import and_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import PixelbotError
from bot.flows.access import Acting, acting_as
from bot.flows.audit import Outcome, about, record
from bot.flows.context import Context
from bot.flows.leases import leased_chunks
from bot.flows.meta.errors import GraphError
from bot.flows.meta.types import SharingRequest
from bot.flows.sharing import reread
from bot.flows.states import ShareStatus, from_meta, transition
from bot.flows.views import RequestView
from bot.store.models import ShareRequest, utcnow
from bot.store.repositories import ShareRequests

log = logging.getLogger(__name__)

RECONCILER = "reconciler"  # the audit actor of changes found at Meta
LEASE_SECONDS = 300.0


@dataclass
class ReconcileReport:
    """What one pass looked at and changed."""

    checked: int = 0
    settled: list[RequestView] = field(default_factory=list)
    revoked: list[RequestView] = field(default_factory=list)
    unknown_statuses: int = 0
    unreadable: int = 0


async def reconcile(ctx: Context, worker: str) -> ReconcileReport:
    """One pass over pending requests and active shares."""
    report = ReconcileReport()
    started = utcnow()
    pending = ShareRequest.status == ShareStatus.PENDING.value
    async for rows in leased_chunks(ctx, worker, pending, LEASE_SECONDS):
        await _check_pending(ctx, rows, report)
    # Shares this pass just saw approved at Meta need no second look.
    active = and_(
        ShareRequest.status == ShareStatus.ACTIVE.value, ShareRequest.updated_at < started
    )
    async for rows in leased_chunks(ctx, worker, active, LEASE_SECONDS):
        await _check_active(ctx, rows, report)
    return report


async def reader(ctx: Context, session: AsyncSession, row: ShareRequest) -> Acting | None:
    """A token that may read the request: the owner's, else the agency's; None without."""
    found = await readers(ctx, session, row)
    return found[0] if found else None


async def readers(ctx: Context, session: AsyncSession, row: ShareRequest) -> list[Acting]:
    """Every registered side of the request, owner first: who may read a request is not
    documented (docs/meta.md, inference 1), so a reader that fails is followed by the next."""
    found = []
    for business_id in (row.owner_business_id, row.agency_business_id):
        try:
            found.append(await acting_as(ctx, session, business_id))
        except PixelbotError:
            continue
    return found


async def _check_pending(ctx: Context, rows: list[ShareRequest], report: ReconcileReport) -> None:
    """Read each request with the owner's token (else the agency's); what that reader could
    not read gets a second look (`_second_look`)."""
    groups: dict[str, list[ShareRequest]] = defaultdict(list)
    readers: dict[str, Acting] = {}
    unread: list[tuple[ShareRequest, str | None]] = []  # (row, the business that tried)
    # One lookup (and one decryption) per business pair, not per row.
    found: dict[tuple[str, str], Acting | None] = {}
    async with ctx.sessions() as session:
        for row in rows:
            pair = (row.owner_business_id, row.agency_business_id)
            if pair not in found:
                found[pair] = await reader(ctx, session, row)
            acting = found[pair]
            if acting is None or row.pending_request_id is None:
                report.unreadable += 1
                continue
            readers[acting.business_id] = acting
            groups[acting.business_id].append(row)
    for business_id, group in groups.items():
        report.checked += len(group)
        answers = await _read(ctx, readers[business_id], group)
        for row in group:
            answer = answers.get(row.pending_request_id or "")
            if isinstance(answer, SharingRequest):
                await _apply(ctx, row, answer, report)
            else:
                unread.append((row, business_id))
    if unread:
        await _second_look(ctx, unread, report)


async def _read(
    ctx: Context, acting: Acting, rows: list[ShareRequest]
) -> dict[str, SharingRequest | GraphError]:
    """The requests of `rows` as `acting` reads them (nothing when the whole batch fails)."""
    ids = [row.pending_request_id or "" for row in rows]
    try:
        return dict(await ctx.meta.get_requests(acting.token, ids))
    except GraphError as error:
        log.warning("reconcile: requests unreadable by %s: %s", acting.business_id, error)
        return {}


async def _second_look(
    ctx: Context, unread: list[tuple[ShareRequest, str | None]], report: ReconcileReport
) -> None:
    """Meta documents no rule on who may read a request (docs/meta.md, inference 1): what one
    side could not read is read with the other side's token; what neither can read counts
    as approved when Meta lists the agency on the pixel with the tasks asked."""
    others: dict[str, list[ShareRequest]] = defaultdict(list)
    for row, tried in unread:
        owner, agency = row.owner_business_id, row.agency_business_id
        others[agency if tried == owner else owner].append(row)
    left: list[ShareRequest] = []
    for business_id, group in others.items():
        try:
            async with ctx.sessions() as session:
                acting = await acting_as(ctx, session, business_id)
        except PixelbotError:
            left.extend(group)
            continue
        answers = await _read(ctx, acting, group)
        for row in group:
            answer = answers.get(row.pending_request_id or "")
            if isinstance(answer, SharingRequest):
                await _apply(ctx, row, answer, report)
            else:
                left.append(row)
    by_pixel: dict[tuple[str, str], list[ShareRequest]] = defaultdict(list)
    for row in left:
        by_pixel[(row.owner_business_id, row.pixel_id)].append(row)
    for (owner_id, pixel_id), group in by_pixel.items():
        listed = await _agencies_on(ctx, owner_id, pixel_id)
        for row in group:
            tasks = listed.get(row.agency_business_id)
            if tasks is None or not set(row.permitted_tasks) <= tasks:
                report.unreadable += 1
                continue
            why = "the request could not be read; Meta lists the agency on the pixel with the "
            why += "tasks asked"
            view = await settle(ctx, row.id, ShareStatus.PENDING, ShareStatus.ACTIVE, why)
            if view is not None:
                report.settled.append(view)


async def _agencies_on(ctx: Context, owner_id: str, pixel_id: str) -> dict[str, set[str]]:
    """The agencies Meta lists on the pixel and their tasks (none when it cannot be read)."""
    try:
        async with ctx.sessions() as session:
            owner = await acting_as(ctx, session, owner_id)
        agencies = await ctx.meta.list_agencies(owner.token, pixel_id)
    except (PixelbotError, GraphError):
        return {}
    return {a.id: set(a.permitted_tasks) for a in agencies}


async def _apply(
    ctx: Context,
    row: ShareRequest,
    answer: SharingRequest,
    report: ReconcileReport,
) -> None:
    status = answer.request_status
    target = from_meta(status)
    if target is None:
        report.unknown_statuses += 1
        log.warning("reconcile: request %s has unknown status %r; left pending", row.id, status)
        return
    if target is ShareStatus.PENDING:
        return
    view = await settle(ctx, row.id, ShareStatus.PENDING, target, f"Meta shows it {status}")
    if view is not None:
        report.settled.append(view)


async def _check_active(ctx: Context, rows: list[ShareRequest], report: ReconcileReport) -> None:
    by_pixel: dict[tuple[str, str], list[ShareRequest]] = defaultdict(list)
    for row in rows:
        by_pixel[(row.owner_business_id, row.pixel_id)].append(row)
    for (owner_id, pixel_id), group in by_pixel.items():
        report.checked += len(group)
        try:
            async with ctx.sessions() as session:
                owner = await acting_as(ctx, session, owner_id)
            agencies = {a.id for a in await ctx.meta.list_agencies(owner.token, pixel_id)}
        except (PixelbotError, GraphError) as error:
            log.warning("reconcile: agencies of pixel %s unreadable: %s", pixel_id, error)
            report.unreadable += len(group)
            continue
        for row in group:
            if row.agency_business_id in agencies:
                continue
            view = await settle(
                ctx,
                row.id,
                ShareStatus.ACTIVE,
                ShareStatus.REVOKED,
                "agency no longer on the pixel",
            )
            if view is not None:
                report.revoked.append(view)


async def settle(
    ctx: Context,
    request_id: int,
    current: ShareStatus,
    target: ShareStatus,
    why: str,
    *,
    keep_decider: bool = False,
    actor: str = RECONCILER,
    reason: str | None = None,
) -> RequestView | None:
    """Move a row to what Meta shows, audited; None if someone moved it first."""
    fields: dict[str, object] = {"decided_at": ctx.clock(), "attention": None}
    if not keep_decider:
        fields |= {"decider_slack_id": None, "decision_reason": reason}
    async with ctx.sessions.begin() as session:
        if not await transition(ShareRequests(session), request_id, current, target, **fields):
            return None
        row = await reread(session, request_id)
        await record(
            session,
            actor,
            "reconcile",
            Outcome.OK,
            **about(row),
            detail=f"{current} -> {target}: {why}",
        )
        return RequestView.of(row)
