"""One audit event per attempt, whatever its outcome, in the caller's transaction."""

from __future__ import annotations

import logging
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.flows.meta.errors import GraphError
from bot.store.models import ShareRequest
from bot.store.repositories import AuditEntry, AuditLog

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    """How an attempt ended, as the audit log records it."""

    OK = "ok"  # done at Meta (or nothing needed doing)
    PENDING = "pending"  # Meta opened a request the agency must accept
    REFUSED = "refused"  # pixelbot said no (authorization, state, input); Meta not called
    FAILED = "failed"  # Meta said no
    UNKNOWN = "unknown"  # no answer from Meta: it may have applied the change
    # The row had moved (another click, a recovery pass) when this attempt went to record
    # its outcome: nothing was recorded as done by it.
    CONFLICT = "conflict"


def about(row: ShareRequest) -> dict[str, Any]:
    """The audit fields that name a share request: its pixel, businesses and id."""
    return {
        "pixel_id": row.pixel_id,
        "business_id": row.owner_business_id,
        "agency_business_id": row.agency_business_id,
        "share_request_id": row.id,
    }


async def record(
    session: AsyncSession,
    actor: str,
    action: str,
    outcome: Outcome,
    *,
    pixel_id: str | None = None,
    business_id: str | None = None,
    agency_business_id: str | None = None,
    share_request_id: int | None = None,
    error: GraphError | None = None,
    detail: str | None = None,
) -> None:
    """Append an audit event (and log it); a Graph error gives its code, fbtrace_id, message."""
    if error is not None and detail is None:
        detail = error.user_message
    log.info(
        "%s by %s: %s (request %s, pixel %s, code %s, fbtrace_id %s)",
        action,
        actor,
        outcome.value,
        share_request_id,
        pixel_id,
        error.code if error else None,
        error.fbtrace_id if error else None,
        extra={
            "action": action,
            "actor": actor,
            "outcome": outcome.value,
            "share_request_id": share_request_id,
            "pixel_id": pixel_id,
            "fbtrace_id": error.fbtrace_id if error else None,
        },
    )
    await AuditLog(session).append(
        AuditEntry(
            actor=actor,
            action=action,
            outcome=outcome.value,
            pixel_id=pixel_id,
            business_id=business_id,
            agency_business_id=agency_business_id,
            share_request_id=share_request_id,
            graph_code=error.code if error is not None else None,
            fbtrace_id=error.fbtrace_id if error is not None else None,
            detail=detail[:2000] if detail else None,
        )
    )


async def record_conflict(
    session: AsyncSession,
    actor: str,
    action: str,
    row: ShareRequest,
    expected: str,
    target: str,
    error: GraphError | None = None,
) -> None:
    """A transition refused because `row` had moved: a `conflict` event naming both states."""
    detail = f"could not move {expected} -> {target}: the request was already {row.status}"
    await record(session, actor, action, Outcome.CONFLICT, **about(row), error=error, detail=detail)
