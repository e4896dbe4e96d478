"""Operator use-cases: register businesses with their tokens, grant and revoke admins."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import Conflict, InvalidInput, NotFound
from bot.flows import ids
from bot.store.models import Business, BusinessAdmin
from bot.store.repositories import Admins, AuditEntry, AuditLog, Businesses
from bot.tokens import TokenBox, fingerprint

OPERATOR = "operator"  # the audit actor for changes made with the pixelbot command


@dataclass(frozen=True)
class BusinessView:
    """A registered business as shown to operators: never the token, only its fingerprint."""

    business_id: str
    name: str
    approvals_channel: str | None
    token_fingerprint: str
    admin_count: int
    updated_at: datetime


class Registry:
    """Businesses and admin grants; each method is one transaction with its audit event."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], box: TokenBox | None) -> None:
        self._sessions = sessions
        self._box = box

    async def add_business(
        self,
        business_id: str,
        name: str,
        channel: str | None,
        token: SecretStr,
        *,
        replace: bool = False,
    ) -> BusinessView:
        """Register a business (or, with `replace`, update its name, channel and token)."""
        ids.meta_id(business_id, "business id")
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput("name must be 1 to 200 characters")
        if channel is not None:
            ids.slack_channel_id(channel)
        if self._box is None:
            raise InvalidInput("PIXELBOT_SECRET_KEY is needed to store a token")
        async with self._sessions.begin() as session:
            businesses = Businesses(session)
            existing = await businesses.get(business_id)
            if existing is not None and not replace:
                raise Conflict(
                    f"business {business_id} is already registered; use --replace to update it"
                )
            business = existing or Business(business_id=business_id)
            business.name = name
            business.approvals_channel = channel
            business.token_ciphertext = self._box.seal(token)
            business.token_fingerprint = fingerprint(token)
            if existing is None:
                await businesses.add(business)
            action = "business.replace" if existing else "business.add"
            await _audit(session, action, business_id, f"token {business.token_fingerprint}")
            return await _view(session, business)

    async def list_businesses(self) -> list[BusinessView]:
        """Every registered business."""
        async with self._sessions() as session:
            return [await _view(session, b) for b in await Businesses(session).all()]

    async def remove_business(self, business_id: str) -> None:
        """Forget a business, its token and its admins; its requests stay in the history."""
        ids.meta_id(business_id, "business id")
        async with self._sessions.begin() as session:
            businesses = Businesses(session)
            if await businesses.get(business_id) is None:
                raise NotFound(f"business {business_id} is not registered")
            await businesses.remove(business_id)
            await _audit(session, "business.remove", business_id)

    async def grant_admin(self, slack_user_id: str, business_id: str) -> None:
        """Let a Slack user act for a business."""
        ids.slack_user_id(slack_user_id)
        ids.meta_id(business_id, "business id")
        async with self._sessions.begin() as session:
            if await Businesses(session).get(business_id) is None:
                raise NotFound(f"business {business_id} is not registered")
            admins = Admins(session)
            if await admins.get(slack_user_id, business_id) is not None:
                raise Conflict(f"{slack_user_id} is already an admin of business {business_id}")
            await admins.grant(slack_user_id, business_id)
            await _audit(session, "admin.grant", business_id, slack_user_id)

    async def revoke_admin(self, slack_user_id: str, business_id: str) -> None:
        """Take a Slack user's right to act for a business away."""
        ids.slack_user_id(slack_user_id)
        ids.meta_id(business_id, "business id")
        async with self._sessions.begin() as session:
            admins = Admins(session)
            if await admins.get(slack_user_id, business_id) is None:
                raise NotFound(f"{slack_user_id} is not an admin of business {business_id}")
            await admins.revoke(slack_user_id, business_id)
            await _audit(session, "admin.revoke", business_id, slack_user_id)

    async def list_admins(self, business_id: str | None = None) -> Sequence[BusinessAdmin]:
        """Admin grants, of one business or all."""
        async with self._sessions() as session:
            if business_id is not None:
                ids.meta_id(business_id, "business id")
                if await Businesses(session).get(business_id) is None:
                    raise NotFound(f"business {business_id} is not registered")
            return await Admins(session).list(business_id)


async def _view(session: AsyncSession, business: Business) -> BusinessView:
    admins = await Admins(session).list(business.business_id)
    return BusinessView(
        business_id=business.business_id,
        name=business.name,
        approvals_channel=business.approvals_channel,
        token_fingerprint=business.token_fingerprint,
        admin_count=len(admins),
        updated_at=business.updated_at,
    )


async def _audit(
    session: AsyncSession, action: str, business_id: str, detail: str | None = None
) -> None:
    await AuditLog(session).append(
        AuditEntry(
            actor=OPERATOR, action=action, outcome="ok", business_id=business_id, detail=detail
        )
    )
