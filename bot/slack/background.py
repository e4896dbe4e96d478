"""Work that runs after Slack has its acknowledgement.

Raising right after `ack()` can turn into a 404 for Slack (slack.md §1.1), so listeners ack
and hand the slow part to `spawn`; its failures go to the same reporting as the error hook.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.slack.errors import Respond, report

log = logging.getLogger(__name__)


class Background:
    """Tasks started after an ack; strong references kept so none is garbage-collected."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, work: Coroutine[Any, Any, object], respond: Respond | None) -> None:
        """Run `work`; any exception is shown to the user through `respond` and logged."""
        task = asyncio.create_task(self._run(work, respond))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, work: Coroutine[Any, Any, object], respond: Respond | None) -> None:
        try:
            await work
        except Exception as exc:  # the one place background failures are turned into replies
            await report(exc, respond)

    @property
    def busy(self) -> int:
        """How many tasks are still running."""
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every task (and any task they started) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
