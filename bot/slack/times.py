"""The one clock of the Slack layer (the builders take `now` as an argument)."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)
