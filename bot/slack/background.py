"""Work that runs after Slack has its acknowledgement.

Raising right after `ack()` can turn into a 404 for Slack (slack.md §1.1), so listeners ack
and hand the slow part to `spawn`; its failures go to the same reporting as the error hook.

Under a flood the backlog is bounded: at most `running` tasks work at once (the rest wait
for a slot, holding little), and beyond `queued` the user is told to retry at once instead
of the process accumulating work it cannot finish. An unbounded backlog grows the heap, and
the garbage collector's pauses then delay every acknowledgement.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.slack.blocks import Message
from bot.slack.errors import Respond, report

log = logging.getLogger(__name__)

BUSY = Message(
    text=":hourglass: pixelbot is very busy right now and did not start this. "
    "Nothing was changed; please try again in a minute.",
    blocks=[],
)


class Background:
    """Tasks started after an ack; strong references kept so none is garbage-collected."""

    def __init__(self, running: int = 64, queued: int = 2000) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._slots = asyncio.Semaphore(running)
        self._queued = queued

    def spawn(self, work: Coroutine[Any, Any, object], respond: Respond | None) -> None:
        """Run `work`; any exception is shown to the user through `respond` and logged."""
        if len(self._tasks) >= self._queued:
            work.close()  # never started: nothing happened, and the user is told so
            log.warning("background backlog full (%d tasks): refusing new work", self._queued)
            self._track(asyncio.create_task(self._busy(respond)))
            return
        self._track(asyncio.create_task(self._run(work, respond)))

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, work: Coroutine[Any, Any, object], respond: Respond | None) -> None:
        try:
            async with self._slots:
                await work
        except Exception as exc:  # the one place background failures are turned into replies
            await report(exc, respond)

    async def _busy(self, respond: Respond | None) -> None:
        if respond is None:
            return
        try:
            await respond(response_type="ephemeral", text=BUSY.text)
        except Exception:  # best effort, like every notification
            log.warning("could not tell a user that pixelbot is busy", exc_info=True)

    @property
    def busy(self) -> int:
        """How many tasks are running or waiting."""
        return len(self._tasks)

    async def drain(self) -> None:
        """Wait until every task (and any task they started) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
