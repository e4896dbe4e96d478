"""Ad accounts linked to a pixel for a business (`/{pixel}/shared_accounts`).

Since September 2024 Meta links an account only when the business can reach both the pixel
and the ad account, so both are checked first and each refusal is explained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.errors import InvalidInput, PixelbotError
from bot.flows import ids
from bot.flows.access import Acting, OwnedPixel, acting_as, owned_pixel
from bot.flows.audit import Outcome, record
from bot.flows.context import Context
from bot.flows.meta.errors import GraphError
from bot.flows.meta.port import OnChunk
from bot.flows.meta.types import AdAccount, LinkResult
from bot.flows.refusals import refused
from bot.flows.views import MetaFailed

# The tasks that let a business use a pixel with its ad accounts (Meta's sharing guide).
LINK_TASKS = frozenset({"ADVERTISE", "ANALYZE", "EDIT"})
SEPTEMBER_2024 = (
    "Since September 2024 Meta links an ad account to a pixel only when the business has "
    "access to both."
)


class NoPixelAccess(InvalidInput):
    """The business cannot reach the pixel, so Meta would not link its accounts to it."""

    def __init__(
        self, business_id: str, business_name: str, pixel_id: str, pixel_name: str, action: str
    ) -> None:
        super().__init__(
            f"{business_name} has no access to pixel {pixel_name or pixel_id} ({pixel_id}). "
            f"{SEPTEMBER_2024}"
        )
        self.business_id = business_id
        self.business_name = business_name
        self.pixel_id = pixel_id
        self.pixel_name = pixel_name
        self.action = action


@dataclass(frozen=True)
class LinkReport:
    """What became of each account: linked now, linked already, or refused and why."""

    pixel_id: str
    pixel_name: str
    business_id: str
    business_name: str
    unlink: bool = False
    done: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class _Target:
    owned: OwnedPixel
    business: Acting


async def link(
    ctx: Context,
    actor: str,
    pixel_id: str,
    business_id: str,
    account_ids: Sequence[str],
    on_progress: OnChunk | None = None,
) -> LinkReport:
    """Link ad accounts to a pixel for a business, in Graph batches of 50."""
    target = await _target(ctx, actor, "link", pixel_id, business_id)
    report = _report(target, unlink=False)
    try:
        await _require_pixel_access(ctx, target)
        reachable = {a.account_id for a in await _reachable(ctx, target)}
        linked = {a.account_id for a in await _linked(ctx, target)}
    except PixelbotError as exc:
        await refused(ctx, actor, "link", exc, pixel_id=pixel_id, business_id=business_id)
        raise
    todo = []
    for account in dict.fromkeys(account_ids):
        if account in linked:
            report.already.append(account)
        elif account not in reachable:
            reason = f"{target.business.name} has no access to ad account act_{account}."
            report.refused.append((account, f"{reason} {SEPTEMBER_2024}"))
        else:
            todo.append(account)
    results = await _batch(ctx, target, todo, False, on_progress)
    _sort(report, results)
    await _audit(ctx, actor, "link", report, results)
    return report


async def unlink(
    ctx: Context, actor: str, pixel_id: str, business_id: str, account_id: str
) -> LinkReport:
    """Unlink one ad account from a pixel for a business."""
    target = await _target(ctx, actor, "unlink", pixel_id, business_id)
    report = _report(target, unlink=True)
    try:
        linked = {a.account_id for a in await _linked(ctx, target)}
    except PixelbotError as exc:
        await refused(ctx, actor, "unlink", exc, pixel_id=pixel_id, business_id=business_id)
        raise
    if account_id not in linked:
        report.already.append(account_id)
        results: list[LinkResult] = []
    else:
        results = await _batch(ctx, target, [account_id], True, None)
    _sort(report, results)
    await _audit(ctx, actor, "unlink", report, results)
    return report


async def linked_accounts(
    ctx: Context, actor: str, pixel_id: str, business_id: str
) -> tuple[LinkReport, list[AdAccount]]:
    """The ad accounts of a business linked to a pixel."""
    target = await _target(ctx, actor, "accounts", pixel_id, business_id)
    try:
        return _report(target, unlink=False), await _linked(ctx, target)
    except PixelbotError as exc:
        await refused(ctx, actor, "accounts", exc, pixel_id=pixel_id, business_id=business_id)
        raise


async def _target(
    ctx: Context, actor: str, action: str, pixel_id: str, business_id: str
) -> _Target:
    """The owner's admin acting, the business's own token (Meta wants the account holder's)."""
    try:
        ids.meta_id(pixel_id, "PIXEL_ID")
        ids.meta_id(business_id, "BUSINESS_ID")
        owned = await owned_pixel(ctx, actor, pixel_id, action)
        async with ctx.sessions() as session:
            business = await acting_as(ctx, session, business_id, action)
    except PixelbotError as exc:
        await refused(ctx, actor, action, exc, pixel_id=pixel_id, business_id=business_id)
        raise
    return _Target(owned, business)


def _report(target: _Target, *, unlink: bool) -> LinkReport:
    pixel = target.owned.pixel
    business = target.business
    return LinkReport(pixel.id, pixel.name, business.business_id, business.name, unlink)


async def _reachable(ctx: Context, target: _Target) -> list[AdAccount]:
    business = target.business
    try:
        return await ctx.meta.list_ad_accounts(business.token, business.business_id)
    except GraphError as error:
        raise MetaFailed(error, business.business_id, business.name) from error


async def _linked(ctx: Context, target: _Target) -> list[AdAccount]:
    owner = target.owned.owner
    try:
        return await ctx.meta.list_shared_accounts(
            owner.token, target.owned.pixel.id, target.business.business_id
        )
    except GraphError as error:
        raise MetaFailed(error, owner.business_id, owner.name) from error


async def _require_pixel_access(ctx: Context, target: _Target) -> None:
    owner, business = target.owned.owner, target.business
    if business.business_id == owner.business_id:
        return
    try:
        agencies = await ctx.meta.list_agencies(owner.token, target.owned.pixel.id)
    except GraphError as error:
        raise MetaFailed(error, owner.business_id, owner.name) from error
    pixel = target.owned.pixel
    listed = next((a for a in agencies if a.id == business.business_id), None)
    if listed is None:
        raise NoPixelAccess(business.business_id, business.name, pixel.id, pixel.name, "link")
    if not set(listed.permitted_tasks) & LINK_TASKS:
        # Meta's September 2024 check names access, not tasks; an UPLOAD-only share passes it
        # here and then fails at Meta (docs/meta.md, inference 5): said now, and why.
        tasks = ", ".join(listed.permitted_tasks) or "no task"
        raise InvalidInput(
            f"{business.name} has pixel {pixel.name or pixel.id} ({pixel.id}) for {tasks} "
            f"only: linking ad accounts needs {' or '.join(sorted(LINK_TASKS))}. Share it "
            f"again with one of those: `/pixel share {pixel.id} {business.business_id} "
            "ADVERTISE`."
        )


async def _batch(
    ctx: Context, target: _Target, accounts: list[str], unlink: bool, progress: OnChunk | None
) -> list[LinkResult]:
    if not accounts:
        return []
    call = ctx.meta.unlink_ad_accounts if unlink else ctx.meta.link_ad_accounts
    try:
        return await call(
            target.business.token,
            target.owned.pixel.id,
            target.business.business_id,
            accounts,
            on_chunk=progress,
        )
    except GraphError as error:  # the whole batch call failed: every account with it
        return [LinkResult(a, error) for a in accounts]


def _sort(report: LinkReport, results: list[LinkResult]) -> None:
    for result in results:
        if result.error is None:
            report.done.append(result.account_id)
        else:
            report.refused.append((result.account_id, result.error.user_message))


async def _audit(
    ctx: Context, actor: str, action: str, report: LinkReport, results: list[LinkResult]
) -> None:
    error = next((r.error for r in results if r.error is not None), None)
    outcome = Outcome.OK
    if report.refused and not report.done:
        # Refused only by pixelbot's own checks means Meta was never asked.
        outcome = Outcome.FAILED if error is not None else Outcome.REFUSED
    async with ctx.sessions.begin() as session:
        await record(
            session,
            actor,
            action,
            outcome,
            pixel_id=report.pixel_id,
            business_id=report.business_id,
            error=error,
            detail=f"{len(report.done)} done, {len(report.already)} already, "
            f"{len(report.refused)} refused"
            + (f": {', '.join(a for a, _ in report.refused[:20])}" if report.refused else ""),
        )
