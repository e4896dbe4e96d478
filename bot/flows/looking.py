"""Read-only use-cases: a pixel's details, what waits for a user, the audit history."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select

from bot.errors import PixelbotError
from bot.flows import ids
from bot.flows.access import Refused, businesses_of, read_pixel
from bot.flows.audit import Outcome
from bot.flows.context import Context
from bot.flows.meta.errors import GraphError
from bot.flows.meta.types import AdAccount, Agency, Pixel, PixelSummary
from bot.flows.states import OPEN, ShareStatus
from bot.flows.views import MetaFailed, RequestView
from bot.store.models import AuditEvent, Business, ShareRequest

log = logging.getLogger(__name__)

LIST_LIMIT = 20
HISTORY_PAGE = 15


@dataclass(frozen=True)
class PixelInfo:
    """A pixel as Meta shows it to the user's business, and pixelbot's open requests for it."""

    pixel: Pixel
    seen_as: str  # the business whose token read it
    agencies: tuple[Agency, ...]
    accounts: tuple[tuple[str, AdAccount], ...]  # (business id, account) pairs
    open_requests: tuple[RequestView, ...]


@dataclass(frozen=True)
class Waiting:
    """Requests the user can decide, and the user's own requests still open or recent."""

    to_decide: tuple[RequestView, ...]
    mine: tuple[RequestView, ...]


@dataclass(frozen=True)
class HistoryEvent:
    """One audit event, as shown."""

    occurred_at: datetime
    actor: str
    action: str
    outcome: str
    pixel_id: str | None
    share_request_id: int | None
    graph_code: int | None
    fbtrace_id: str | None
    detail: str | None


@dataclass(frozen=True)
class HistoryPage:
    """A page of events, newest first; `next_page` is None on the last."""

    pixel_id: str | None
    page: int
    events: tuple[HistoryEvent, ...]
    next_page: int | None


async def info(ctx: Context, actor: str, pixel_id: str) -> PixelInfo:
    """Read a pixel with the user's businesses' tokens; list its agencies and linked accounts."""
    ids.meta_id(pixel_id, "PIXEL_ID")
    async with ctx.sessions() as session:
        mine = await businesses_of(session, actor)
        if not mine:
            raise Refused(
                "You are not an admin of any business connected to pixelbot, so pixelbot "
                "has no token to read pixels for you."
            )
        own = [b.business_id for b in mine]
        rows = await session.scalars(
            select(ShareRequest)
            .where(
                ShareRequest.pixel_id == pixel_id,
                ShareRequest.status.in_([s.value for s in OPEN]),
                # Like Meta, show one agency's requests to the owner and to that agency only.
                or_(
                    ShareRequest.owner_business_id.in_(own),
                    ShareRequest.agency_business_id.in_(own),
                ),
            )
            .order_by(ShareRequest.id.desc())
            .limit(LIST_LIMIT)
        )
        open_requests = tuple(RequestView.of(r) for r in rows.all())
    # Meta is asked only once the session is closed: no connection waits on a Graph call.
    pixel = await read_pixel(ctx, mine, pixel_id)
    agencies, accounts, reader = await _shares(ctx, mine, pixel)
    return PixelInfo(pixel, reader.name, agencies, accounts, open_requests)


async def _shares(
    ctx: Context, mine: Sequence[Business], pixel: Pixel
) -> tuple[tuple[Agency, ...], tuple[tuple[str, AdAccount], ...], Business]:
    """Agencies and linked accounts, read with the first of the user's businesses that can.

    The owner's token sees every agency, an agency's token only itself; a business that
    cannot see the pixel at all is skipped rather than failing the whole answer.
    """
    owner_id = pixel.owner_business.id if pixel.owner_business else None
    failure: MetaFailed | None = None
    for reader in sorted(mine, key=lambda b: b.business_id != owner_id):
        token = ctx.box.open(reader.token_ciphertext)
        try:
            agencies = tuple(await ctx.meta.list_agencies(token, pixel.id))
        except GraphError as error:
            failure = MetaFailed(error, reader.business_id, reader.name)
            continue
        accounts: list[tuple[str, AdAccount]] = []
        # The reader may be one of the agencies: ask Meta once per business.
        businesses = dict.fromkeys([reader.business_id, *(a.id for a in agencies[:10])])
        try:
            for business_id in businesses:
                for account in await ctx.meta.list_shared_accounts(token, pixel.id, business_id):
                    accounts.append((business_id, account))
        except GraphError as error:
            raise MetaFailed(error, reader.business_id, reader.name) from error
        return agencies, tuple(accounts), reader
    assert failure is not None
    raise failure


async def waiting(ctx: Context, actor: str) -> Waiting:
    """Pending requests to the user's agencies (not the user's own), and the user's own."""
    async with ctx.sessions() as session:
        agencies = [b.business_id for b in await businesses_of(session, actor)]
        to_decide = await session.scalars(
            select(ShareRequest)
            .where(
                ShareRequest.agency_business_id.in_(agencies),
                ShareRequest.status == ShareStatus.PENDING.value,
                # Their own requests are not theirs to decide (unless self-approval is on).
                ShareRequest.requester_slack_id != ("" if ctx.allow_self_approval else actor),
            )
            .order_by(ShareRequest.created_at)
            .limit(LIST_LIMIT)
        )
        mine = await session.scalars(
            select(ShareRequest)
            .where(ShareRequest.requester_slack_id == actor)
            .order_by(ShareRequest.created_at.desc())
            .limit(LIST_LIMIT // 2)
        )
        return Waiting(
            tuple(RequestView.of(r) for r in to_decide.all()),
            tuple(RequestView.of(r) for r in mine.all()),
        )


async def history(ctx: Context, actor: str, pixel_id: str | None, page: int = 0) -> HistoryPage:
    """Audit events the user may see (their businesses', or their own), newest first."""
    if pixel_id is not None:
        ids.meta_id(pixel_id, "PIXEL_ID")
    if page < 0:
        raise PixelbotError("page must be 0 or more")
    async with ctx.sessions() as session:
        businesses = [b.business_id for b in await businesses_of(session, actor)]
        query = select(AuditEvent).where(
            or_(
                AuditEvent.actor == actor,
                AuditEvent.business_id.in_(businesses),
                # Refusals name the agency as typed by anyone; they are not the agency's history.
                and_(
                    AuditEvent.agency_business_id.in_(businesses),
                    AuditEvent.outcome != Outcome.REFUSED.value,
                ),
            )
        )
        if pixel_id is not None:
            query = query.where(AuditEvent.pixel_id == pixel_id)
        rows = await session.scalars(
            query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
            .offset(page * HISTORY_PAGE)
            .limit(HISTORY_PAGE + 1)
        )
        events = [
            HistoryEvent(
                r.occurred_at,
                r.actor,
                r.action,
                r.outcome,
                r.pixel_id,
                r.share_request_id,
                r.graph_code,
                r.fbtrace_id,
                r.detail,
            )
            for r in rows.all()
        ]
    more = len(events) > HISTORY_PAGE
    return HistoryPage(pixel_id, page, tuple(events[:HISTORY_PAGE]), page + 1 if more else None)


async def pickable_pixels(ctx: Context, actor: str) -> list[PixelSummary]:
    """Pixels owned by the businesses the user administers, for the share form's picker."""
    async with ctx.sessions() as session:
        mine = await businesses_of(session, actor)
    found: dict[str, PixelSummary] = {}
    for business in mine:
        try:
            pixels = await ctx.meta.list_owned_pixels(
                ctx.box.open(business.token_ciphertext), business.business_id
            )
        except GraphError as error:  # one business failing should not empty the picker
            log.warning("owned pixels of %s unavailable: %s", business.business_id, error)
            continue
        for pixel in pixels:
            found.setdefault(pixel.id, pixel)
    return sorted(found.values(), key=lambda p: (p.name.lower(), p.id))
