"""A share request's life, as data: the states, the allowed moves, one function to check them.

In-flight states (`*ING`) are claimed in the database before Meta is called, so after a
crash the rows show exactly what was under way.
"""

from __future__ import annotations

from enum import StrEnum

from bot.errors import Conflict


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


S = ShareStatus

# Meta may have settled a request by itself (Business Settings, expiry) while we were
# acting, so every in-flight state may also land on what Meta reports.
_SETTLED_AT_META = frozenset({S.ACTIVE, S.DECLINED, S.EXPIRED, S.CANCELLED})

TRANSITIONS: dict[ShareStatus, frozenset[ShareStatus]] = {
    S.SUBMITTING: frozenset({S.PENDING, S.ACTIVE, S.FAILED}),
    S.PENDING: frozenset({S.APPROVING, S.DECLINING, S.CANCELLING}) | _SETTLED_AT_META,
    S.APPROVING: frozenset({S.PENDING}) | _SETTLED_AT_META,
    S.DECLINING: frozenset({S.PENDING}) | _SETTLED_AT_META,
    S.CANCELLING: frozenset({S.PENDING}) | _SETTLED_AT_META,
    S.ACTIVE: frozenset({S.REVOKING, S.REVOKED}),
    S.REVOKING: frozenset({S.ACTIVE, S.REVOKED}),
    S.DECLINED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
    S.FAILED: frozenset(),
    S.REVOKED: frozenset(),
}

IN_FLIGHT = frozenset({S.SUBMITTING, S.APPROVING, S.DECLINING, S.CANCELLING, S.REVOKING})
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
