"""A share request's life, as data: the states, the allowed moves, one function to check them.

In-flight states (`*ING`) are claimed in the database before Meta is called, so after a
crash the rows show exactly what was under way.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from bot.errors import Conflict
from bot.flows.meta.types import APPROVED_STATUSES, PENDING_STATUSES
from bot.store.repositories import ShareRequests


class ShareStatus(StrEnum):
    """Where a share request stands; stored as this string."""

    SUBMITTING = "submitting"  # intent recorded; POST /{pixel}/agencies under way
    PENDING = "pending"  # Meta answered with a pending_request_id
    APPROVING = "approving"  # an agency admin's Approve claimed it; POST /{request} under way
    DECLINING = "declining"
    CANCELLING = "cancelling"  # the owner withdraws a pending request (DELETE /agencies)
    ACTIVE = "active"  # the agency has the pixel
    REVOKING = "revoking"  # the owner unshares (DELETE /agencies)
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"  # Meta refused the share; its error is on the row
    REVOKED = "revoked"


# Meta may have settled a request by itself (Business Settings, expiry) while we were
# acting, so every in-flight state may also land on what Meta reports.
_SETTLED_AT_META = frozenset(
    {ShareStatus.ACTIVE, ShareStatus.DECLINED, ShareStatus.EXPIRED, ShareStatus.CANCELLED}
)

TRANSITIONS: dict[ShareStatus, frozenset[ShareStatus]] = {
    ShareStatus.SUBMITTING: frozenset(
        {ShareStatus.PENDING, ShareStatus.ACTIVE, ShareStatus.FAILED}
    ),
    ShareStatus.PENDING: frozenset(
        {ShareStatus.APPROVING, ShareStatus.DECLINING, ShareStatus.CANCELLING}
    )
    | _SETTLED_AT_META,
    ShareStatus.APPROVING: frozenset({ShareStatus.PENDING}) | _SETTLED_AT_META,
    ShareStatus.DECLINING: frozenset({ShareStatus.PENDING}) | _SETTLED_AT_META,
    ShareStatus.CANCELLING: frozenset({ShareStatus.PENDING}) | _SETTLED_AT_META,
    ShareStatus.ACTIVE: frozenset({ShareStatus.REVOKING, ShareStatus.REVOKED}),
    ShareStatus.REVOKING: frozenset({ShareStatus.ACTIVE, ShareStatus.REVOKED}),
    ShareStatus.DECLINED: frozenset(),
    ShareStatus.CANCELLED: frozenset(),
    ShareStatus.EXPIRED: frozenset(),
    ShareStatus.FAILED: frozenset(),
    ShareStatus.REVOKED: frozenset(),
}

IN_FLIGHT = frozenset(
    {
        ShareStatus.SUBMITTING,
        ShareStatus.APPROVING,
        ShareStatus.DECLINING,
        ShareStatus.CANCELLING,
        ShareStatus.REVOKING,
    }
)
# A request for the same pixel and agency in one of these blocks a new share.
OPEN = frozenset(
    {
        ShareStatus.SUBMITTING,
        ShareStatus.PENDING,
        ShareStatus.APPROVING,
        ShareStatus.DECLINING,
        ShareStatus.CANCELLING,
    }
)
FINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)


class IllegalTransition(Conflict):
    """A move the state machine does not allow; names both states."""

    def __init__(self, current: ShareStatus, target: ShareStatus) -> None:
        super().__init__(f"a request that is {current} cannot become {target}")
        self.current = current
        self.target = target


def check_transition(current: ShareStatus, target: ShareStatus) -> None:
    """Raise `IllegalTransition` unless `current` may become `target`."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)


async def transition(
    requests: ShareRequests,
    request_id: int,
    current: ShareStatus,
    target: ShareStatus,
    **fields: Any,
) -> bool:
    """Apply one move: checked against the table, then a conditional UPDATE.

    True when this call made the change; False when the row was no longer `current`.
    """
    check_transition(current, target)
    return await requests.move(request_id, current.value, target.value, **fields)


async def transition_all(
    requests: ShareRequests,
    request_ids: Sequence[int],
    current: ShareStatus,
    target: ShareStatus,
    **fields: Any,
) -> list[int]:
    """Apply one move to each row; the ids of those that were no longer `current` (lost)."""
    lost = []
    for request_id in request_ids:
        if not await transition(requests, request_id, current, target, **fields):
            lost.append(request_id)
    return lost


# graph-api.md §1.4: what each `request_status` of a sharing request means for our row.
_META_FINAL = {
    "DECLINE": ShareStatus.DECLINED,
    "MMA_DIRECT_ASSETS_DECLINED": ShareStatus.DECLINED,
    "EXPIRED": ShareStatus.EXPIRED,
    "MMA_DIRECT_ASSETS_EXPIRED": ShareStatus.EXPIRED,
    "CANCELED": ShareStatus.CANCELLED,
}


def from_meta(request_status: str) -> ShareStatus | None:
    """Our state for Meta's `request_status`; None for a value we do not know (never guess)."""
    value = request_status.upper()
    if value in PENDING_STATUSES:
        return ShareStatus.PENDING
    if value in APPROVED_STATUSES:
        return ShareStatus.ACTIVE
    return _META_FINAL.get(value)
