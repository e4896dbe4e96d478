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
import contextlib
import logging
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from bot import metrics
from bot.slack.blocks import Message
from bot.slack.errors import Respond, report

log = logging.getLogger(__name__)

# A cancelled task unwinds (rolls back, closes sockets) within this; then the process goes.
CANCEL_GRACE_SECONDS = 1.0

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
        self._running = 0
        self._waiting = 0
        metrics.watch_background(self)

    def spawn(self, work: Coroutine[Any, Any, object], respond: Respond | None) -> bool:
        """Run `work`; any exception is shown to the user through `respond` and logged.
        False when the backlog is full: `work` never runs (and the user is told so)."""
        if len(self._tasks) >= self._queued:
            work.close()  # never started: nothing happened, and the user is told so
            log.warning("background backlog full (%d tasks): refusing new work", self._queued)
            metrics.BACKGROUND_REFUSED.inc()
            self._track(asyncio.create_task(self._busy(respond)))
            return False
        self._track(asyncio.create_task(self._run(work, respond)))
        return True

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, work: Coroutine[Any, Any, object], respond: Respond | None) -> None:
        try:
            async with self._slot():
                await work
        except Exception as exc:  # the one place background failures are turned into replies
            await report(exc, respond)
        finally:
            work.close()  # a no-op once it ran; one cut short while waiting never started

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        """Hold one of the slots; `running` and `waiting` count who holds and who waits."""
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        self._running += 1
        try:
            yield
        finally:
            self._running -= 1
            self._slots.release()

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

    @property
    def running(self) -> int:
        """How many tasks hold a slot (for metrics)."""
        return self._running

    @property
    def waiting(self) -> int:
        """How many tasks wait for a slot (for metrics)."""
        return self._waiting

    async def drain(self, seconds: float | None = None) -> int:
        """Wait until every task (and any task they started) has finished, or `seconds` have
        passed; then cancel what is left and return how many tasks were cut short.

        A cancelled task stops where it stands: a claim it committed stays in the database
        exactly as a killed process would leave it, and crash recovery finishes it (asking
        Meta what happened, never repeating the call)."""
        deadline = None if seconds is None else asyncio.get_running_loop().time() + seconds
        while self._tasks:
            left = None if deadline is None else deadline - asyncio.get_running_loop().time()
            if left is not None and left <= 0:
                return await self._cut_short(seconds)
            await asyncio.wait(list(self._tasks), timeout=left)
        return 0

    async def _cut_short(self, seconds: float | None) -> int:
        tasks = list(self._tasks)
        log.warning(
            "shutdown: %d background task(s) still running after %.0f s were cut short; "
            "crash recovery finishes what they had claimed",
            len(tasks),
            seconds,
            extra={"cut_short": len(tasks)},
        )
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=CANCEL_GRACE_SECONDS)
        return len(tasks)
