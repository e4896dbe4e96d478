"""The background runner: failures reported, concurrency bounded, a flood refused politely."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.slack.background import BUSY, Background


class Replies:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> None:
        self.sent.append(kwargs)


async def test_at_most_running_tasks_work_at_once() -> None:
    background = Background(running=3, queued=100)
    active, peak = 0, 0

    async def work() -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.01)
        active -= 1

    for _ in range(20):
        background.spawn(work(), None)
    await background.drain()
    assert peak == 3


async def test_beyond_the_queue_the_user_is_told_and_the_work_never_starts() -> None:
    background = Background(running=1, queued=5)
    gate = asyncio.Event()
    started: list[int] = []

    async def work(n: int) -> None:
        started.append(n)
        await gate.wait()

    replies = Replies()
    for n in range(8):
        background.spawn(work(n), replies)
    await asyncio.sleep(0)
    gate.set()
    await background.drain()
    assert sorted(started) == [0, 1, 2, 3, 4]  # the last three were refused, not run
    assert [r["text"] for r in replies.sent] == [BUSY.text] * 3


async def test_a_failure_is_reported_to_the_user_with_an_error_id() -> None:
    async def broken() -> None:
        raise RuntimeError("kaboom")

    background, replies = Background(), Replies()
    background.spawn(broken(), replies)
    await background.drain()
    [reply] = replies.sent
    assert "error id" in reply["text"] and "kaboom" not in reply["text"]
