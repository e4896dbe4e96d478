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


async def test_drain_waits_for_work_that_ends_in_time() -> None:
    background = Background()
    done: list[int] = []

    async def quick() -> None:
        await asyncio.sleep(0.01)
        done.append(1)

    background.spawn(quick(), None)
    assert await background.drain(5.0) == 0
    assert done == [1]


async def test_drain_cuts_short_what_outlives_its_deadline(caplog) -> None:
    background = Background(running=1)
    reached: list[str] = []

    async def slow(name: str) -> None:
        reached.append(f"{name} started")
        await asyncio.sleep(60)  # a Graph call that will not answer in time
        reached.append(f"{name} finished")

    replies = Replies()
    background.spawn(slow("first"), replies)
    background.spawn(slow("second"), replies)  # still waiting for the one slot
    await asyncio.sleep(0)
    assert await background.drain(0.05) == 2
    assert reached == ["first started"]
    assert background.busy == 0
    assert replies.sent == []  # cut short is not a failure to report to anyone
    assert "2 background task(s) still running after 0 s were cut short" in caplog.text
