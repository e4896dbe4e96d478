"""Everything the simulator remembers, in one object: world, faults, call log, usage, clock.

Meta's routes (pipeline.py) and the control API (control.py) both act on a `State`; the ASGI
app (app.py) only holds one. So neither needs the app, and the app needs neither's insides.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.sandbox.faults import Faults
from bot.sandbox.usage import UsageMeter
from bot.sandbox.world import World


@dataclass
class CallRecord:
    """One Graph call as the sandbox saw it; never holds the token or the proof."""

    method: str
    path: str
    version: str | None
    params: dict[str, str]
    business_id: str | None
    in_batch: bool
    at: datetime
    status: int = 0
    error_code: int | None = None
    fault: str | None = None  # the injected fault's kind, when one applied


def _utc_now() -> datetime:
    return datetime.now(UTC)


class State:
    """The simulated Meta: tests read and change `world`, `faults` and `calls` directly."""

    def __init__(
        self, world: World, faults: Faults, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.world = world
        self.faults = faults
        self.calls: list[CallRecord] = []
        self.usage = UsageMeter()
        # Tests pass a clock they move by hand: expiry, usage windows and event ages follow it.
        self.clock: Callable[[], datetime] = clock or _utc_now
        self._initial = copy.deepcopy(world)

    def reset(self) -> None:
        """Back to the world as created: no faults, no calls, no usage."""
        self.world = copy.deepcopy(self._initial)
        self.faults.clear()
        self.calls.clear()
        self.usage.reset()
