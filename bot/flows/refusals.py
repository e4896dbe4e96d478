"""Audit a refused attempt in its own transaction: the refusal itself is worth keeping."""

from __future__ import annotations

from bot.errors import PixelbotError
from bot.flows.audit import Outcome, record
from bot.flows.context import Context
from bot.flows.views import MetaFailed


async def refused(
    ctx: Context,
    actor: str,
    action: str,
    exc: PixelbotError,
    *,
    pixel_id: str | None = None,
    business_id: str | None = None,
    agency_business_id: str | None = None,
    share_request_id: int | None = None,
) -> None:
    """Record that `action` by `actor` did not happen, and why (Meta's error if it said no)."""
    error = exc.error if isinstance(exc, MetaFailed) else None
    async with ctx.sessions.begin() as session:
        await record(
            session,
            actor,
            action,
            Outcome.FAILED if error is not None else Outcome.REFUSED,
            pixel_id=pixel_id,
            business_id=business_id,
            agency_business_id=agency_business_id,
            share_request_id=share_request_id,
            error=error,
            detail=None if error is not None else str(exc),
        )
