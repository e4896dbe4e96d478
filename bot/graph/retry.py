"""When to retry a failed Graph call, and how long to wait first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.flows.meta.errors import (
    GraphError,
    GraphRateLimited,
    GraphTransientError,
    outcome_unknown,
)
from bot.graph.usage import Usage, pause_for


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounds on retrying one call: attempts, backoff and a total time budget (seconds)."""

    max_attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    budget: float = 90.0
    # How many times null (timed-out) batch items are sent again.
    batch_null_rounds: int = 2


def backoff(policy: RetryPolicy, attempt: int, jitter: Callable[[], float]) -> float:
    """Exponential backoff with full jitter: uniform in [0, min(max, base * 2**attempt)]."""
    return jitter() * min(policy.max_delay, policy.base_delay * 2.0**attempt)


def retryable(error: GraphError, idempotent: bool) -> bool:
    """Throttling and transient failures may be retried, but never a write that may have landed."""
    if isinstance(error, GraphRateLimited):
        return True
    if isinstance(error, GraphTransientError):
        return idempotent or not outcome_unknown(error)
    return False


def retry_delay(
    error: GraphError,
    *,
    policy: RetryPolicy,
    attempt: int,
    elapsed: float,
    idempotent: bool,
    usage: Usage | None,
    jitter: Callable[[], float],
) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None to let the error surface."""
    if not retryable(error, idempotent) or attempt + 1 >= policy.max_attempts:
        return None
    delay = backoff(policy, attempt, jitter)
    if isinstance(error, GraphRateLimited):
        # Meta's own estimate beats our guess; the usage headers cover app-level throttling.
        delay = max(delay, error.retry_after or 0.0, pause_for(usage))
    if elapsed + delay > policy.budget:
        return None
    return delay
