"""Who may act for which business, checked at the moment of each action."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import PixelbotError
from bot.flows.context import Context
from bot.flows.meta.errors import GraphError, GraphInvalidParameter, GraphPermissionError
from bot.flows.meta.types import Pixel
from bot.flows.views import MetaFailed
from bot.store.models import Business, BusinessAdmin
from bot.store.repositories import Admins, Businesses


class Refused(PixelbotError):
    """The user may not do this; `str()` says why in plain words, without markup."""


class NotAdmin(Refused):
    """`action` needs an admin of the business; carries its admins as Slack user ids.

    `own_request`: the user administers it but asked for the share, so another admin decides.
    """

    def __init__(
        self,
        business_id: str,
        business_name: str,
        admins: Sequence[str],
        action: str,
        *,
        own_request: bool = False,
    ) -> None:
        self.business_id = business_id
        self.business_name = business_name
        self.admins = tuple(admins)
        self.action = action
        self.own_request = own_request
        who = f"its admins: {', '.join(self.admins)}" if self.admins else "it has no admins yet"
        mine = "the requester may not decide their own share; " if own_request else ""
        super().__init__(
            f"{mine}only admins of {business_name} ({business_id}) may {action}; {who}"
        )


class NoBusiness(Refused):
    """The user administers no business connected to pixelbot, so may not `action`."""

    def __init__(self, user: str, action: str) -> None:
        self.user = user
        self.action = action
        super().__init__(f"{user} is not an admin of any business connected to pixelbot")


class NotConnected(PixelbotError):
    """A business pixelbot would need to act for is not registered (it owns `pixel_id`, if set)."""

    def __init__(
        self,
        business_id: str,
        action: str,
        business_name: str | None = None,
        pixel_id: str | None = None,
        pixel_name: str | None = None,
    ) -> None:
        self.business_id = business_id
        self.business_name = business_name
        self.action = action
        self.pixel_id = pixel_id
        self.pixel_name = pixel_name
        text = f"business {business_id} is not connected to pixelbot"
        if pixel_id is not None:
            text = (
                f"pixel {pixel_name or pixel_id} ({pixel_id}) is owned by "
                f"{business_name or 'business'} ({business_id}), which is not connected to pixelbot"
            )
        super().__init__(text)


@dataclass(frozen=True)
class Acting:
    """A registered business and its token, about to be used for one call."""

    business_id: str
    name: str
    token: SecretStr


@dataclass(frozen=True)
class OwnedPixel:
    """A pixel as Meta describes it, and its owner acting through pixelbot."""

    pixel: Pixel
    owner: Acting


async def require_admin(
    session: AsyncSession, user: str, business_id: str, name: str, action: str
) -> None:
    """Raise `NotAdmin`, naming the admins, unless `user` administers the business."""
    if await Admins(session).get(user, business_id) is None:
        raise NotAdmin(business_id, name, await admin_ids(session, business_id), action)


async def admin_ids(session: AsyncSession, business_id: str) -> list[str]:
    """Slack user ids of the business's admins."""
    return [a.slack_user_id for a in await Admins(session).list(business_id)]


async def acting_as(
    ctx: Context, session: AsyncSession, business_id: str, action: str = "act"
) -> Acting:
    """A registered business with its decrypted token, or `NotConnected`."""
    business = await Businesses(session).get(business_id)
    if business is None:
        raise NotConnected(business_id, action)
    return Acting(business.business_id, business.name, ctx.box.open(business.token_ciphertext))


async def businesses_of(session: AsyncSession, user: str) -> Sequence[Business]:
    """The registered businesses `user` administers, by name."""
    query = (
        select(Business)
        .join(BusinessAdmin, BusinessAdmin.business_id == Business.business_id)
        .where(BusinessAdmin.slack_user_id == user)
        .order_by(Business.name)
    )
    return (await session.scalars(query)).all()


async def owned_pixel(ctx: Context, user: str, pixel_id: str, action: str) -> OwnedPixel:
    """Read the pixel from Meta with the user's businesses' tokens; its owner must be
    registered and the user one of its admins.

    No session is open while Meta answers: a database connection must never wait on Meta.
    """
    async with ctx.sessions() as session:
        mine = await businesses_of(session, user)
    if not mine:
        raise NoBusiness(user, action)
    pixel = await read_pixel(ctx, mine, pixel_id)
    owner = pixel.owner_business
    if owner is None:
        raise Refused(f"Meta shows no owner business for pixel {pixel_id}.")
    async with ctx.sessions() as session:
        registered = await Businesses(session).get(owner.id)
        if registered is None:
            raise NotConnected(owner.id, action, owner.name or None, pixel_id, pixel.name or None)
        await require_admin(session, user, owner.id, registered.name, action)
        return OwnedPixel(pixel, await acting_as(ctx, session, owner.id, action))


async def read_pixel(ctx: Context, mine: Sequence[Business], pixel_id: str) -> Pixel:
    """The pixel as the first of `mine` that can see it reads it; else Meta's answer."""
    failure: MetaFailed | None = None
    for business in mine:
        try:
            return await ctx.meta.get_pixel(ctx.box.open(business.token_ciphertext), pixel_id)
        except GraphError as error:  # this business cannot see it; another one may
            failure = MetaFailed(error, business.business_id, business.name)
    assert failure is not None
    if isinstance(failure.error, GraphInvalidParameter | GraphPermissionError):
        names = ", ".join(b.name for b in mine)
        raise Refused(
            f"pixel {pixel_id} is not visible at Meta to your business ({names}), so it is "
            "not yours to manage: only admins of the business that owns a pixel can share "
            f"it or link accounts to it (Meta error #{failure.error.code})."
        )
    raise failure


async def approvals_channel(ctx: Context, business_id: str) -> str | None:
    """The registered business's approvals channel, if any."""
    async with ctx.sessions() as session:
        business = await Businesses(session).get(business_id)
        return business.approvals_channel if business else None


async def admins_of(ctx: Context, business_id: str) -> list[str]:
    """Slack ids of the business's admins."""
    async with ctx.sessions() as session:
        return await admin_ids(session, business_id)
