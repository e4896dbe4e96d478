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
    """The user may not do this; the message names who can."""


class NotConnected(PixelbotError):
    """A business pixelbot would need to act for is not registered."""


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


def _mentions(user_ids: Sequence[str]) -> str:
    return ", ".join(f"<@{u}>" for u in user_ids)


async def who_can_act(session: AsyncSession, business_id: str, name: str) -> str:
    """A sentence naming the admins of a business, for refusals."""
    admins = [a.slack_user_id for a in await Admins(session).list(business_id)]
    if not admins:
        return (
            f"{name} ({business_id}) has no admins in pixelbot yet; an operator can add one "
            f"with `pixelbot admin grant USER_ID {business_id}`."
        )
    return f"Only admins of {name} ({business_id}) can do that: {_mentions(admins)}."


async def require_admin(session: AsyncSession, user: str, business_id: str, name: str) -> None:
    """Raise `Refused`, naming the admins, unless `user` administers the business."""
    if await Admins(session).get(user, business_id) is None:
        raise Refused(await who_can_act(session, business_id, name))


async def acting_as(ctx: Context, session: AsyncSession, business_id: str) -> Acting:
    """A registered business with its decrypted token, or `NotConnected`."""
    business = await Businesses(session).get(business_id)
    if business is None:
        raise NotConnected(
            f"business {business_id} is not connected to pixelbot; an operator can add it "
            "with `pixelbot business add`"
        )
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


async def owned_pixel(ctx: Context, user: str, pixel_id: str) -> OwnedPixel:
    """Read the pixel from Meta with the user's businesses' tokens; its owner must be
    registered and the user one of its admins.

    No session is open while Meta answers: a database connection must never wait on Meta.
    """
    async with ctx.sessions() as session:
        mine = await businesses_of(session, user)
    if not mine:
        raise Refused(
            "You are not an admin of any business connected to pixelbot; ask an operator to "
            f"run `pixelbot admin grant {user} BUSINESS_ID`."
        )
    pixel = await read_pixel(ctx, mine, pixel_id)
    owner = pixel.owner_business
    if owner is None:
        raise Refused(f"Meta shows no owner business for pixel {pixel_id}.")
    async with ctx.sessions() as session:
        registered = await Businesses(session).get(owner.id)
        if registered is None:
            raise NotConnected(
                f"pixel {pixel.name or pixel_id} ({pixel_id}) is owned by "
                f"{owner.name or 'business'} ({owner.id}), which is not connected to pixelbot"
            )
        await require_admin(session, user, owner.id, registered.name)
        return OwnedPixel(pixel, await acting_as(ctx, session, owner.id))


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
        return [a.slack_user_id for a in await Admins(session).list(business_id)]
