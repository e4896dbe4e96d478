"""Where the first bot is SIGKILLed, each timed by signals the test observes, not by sleeps:
the database lock its write waits for, the proxy or the sandbox holding its Graph write, the
fake Slack holding its post. One kill hits every flow of the world at the same point: the
test starts them all, waits until each has reached the point, then kills.

SQLite cannot say which statement waits for its lock, so the two kills aimed at a blocked
write wait half a second there instead; the lock still guarantees the write did not happen.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import httpx

from bot.flows.states import IN_FLIGHT
from tests.crash.database import WriteLock
from tests.crash.flows import Trigger
from tests.crash.harness import Bot, World, until
from tests.signing import signed_headers

KillPoint = Callable[[World, Bot, Sequence[Trigger]], Awaitable[None]]
SIGNAL_SECONDS = 30.0  # how long a step may take to show up on a loaded machine
SQLITE_SETTLE = 0.5  # SQLite: time for the bot to reach the write its lock blocks


async def _signals(
    events: Sequence[asyncio.Event], what: str, triggers: Sequence[Trigger] = ()
) -> None:
    try:
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), SIGNAL_SECONDS)
    except TimeoutError:
        late = [t.flow for t, e in zip(triggers, events, strict=False) if not e.is_set()]
        raise AssertionError(f"not within {SIGNAL_SECONDS:g} s: {what} (not yet: {late})") from None


def writes(calls: list[dict[str, Any]], trigger: Trigger) -> list[dict[str, Any]]:
    """The flow's Graph writes that reached Meta (the sandbox's call log)."""
    return _calls_to(calls, trigger.write)


def _calls_to(calls: list[dict[str, Any]], call: tuple[str, str]) -> list[dict[str, Any]]:
    method, path = call
    return [c for c in calls if c["method"] == method and re.fullmatch(path, c["path"])]


async def held_at_meta(world: World, triggers: Sequence[Trigger]) -> bool:
    """Whether Meta applied every flow's write and holds its answer (`Trigger.held_at_meta`)."""
    calls = await world.calls()
    return all(any(c["fault"] == "timeout" for c in _calls_to(calls, t.call)) for t in triggers)


async def _blocked(lock: WriteLock, statements: Counter[str], what: str) -> None:
    """Until every statement waits for the lock (SQLite: a short settle)."""
    if not lock.observable:
        await asyncio.sleep(SQLITE_SETTLE)
        return

    async def all_waiting() -> bool:
        waiting = await lock.waiting()
        return all(
            sum(bool(re.search(s, q, re.IGNORECASE)) for q in waiting) >= n
            for s, n in statements.items()
        )

    await until(all_waiting, SIGNAL_SECONDS, what)


async def _post_all(world: World, bot: Bot, triggers: Sequence[Trigger]) -> None:
    await asyncio.gather(*(world.post(bot, t.body) for t in triggers))


async def before_job_row(world: World, bot: Bot, triggers: Sequence[Trigger]) -> None:
    """The requests are in flight, each job's INSERT waits for the jobs table: no ack yet."""
    known = len(await world.jobs())
    lock = WriteLock(world.database_url)
    await lock.take("jobs")
    try:
        sent = [
            asyncio.create_task(
                world.http.post(bot.events, content=t.body, headers=signed_headers(t.body))
            )
            for t in triggers
        ]
        # Jobs acked together are written by one INSERT (group commit): one waits, the rest
        # wait for it; none can be written while the test holds the lock.
        insert = Counter({r"INSERT INTO jobs": 1})
        await _blocked(lock, insert, "the jobs' INSERT to wait for the lock")
        assert not any(s.done() for s in sent), "Slack had an answer before the job was written"
        await bot.kill()
        answers = await asyncio.gather(*sent, return_exceptions=True)
        # What Slack sees: no answer at all, so it tells the user the app did not respond.
        assert all(isinstance(a, httpx.TransportError) for a in answers), answers
        assert len(await world.jobs()) == known, "a job was written despite the lock"
    finally:
        await lock.release()


async def after_ack(world: World, bot: Bot, triggers: Sequence[Trigger]) -> None:
    """Acked, each job running, its Graph write on the wire: Meta never gets it."""
    held = [world.proxy.hold(t.request_line, t.request_body) for t in triggers]
    await _post_all(world, bot, triggers)
    await _signals([h.arrived for h in held], "every Graph write to reach the proxy", triggers)
    await bot.kill()


async def meta_holds(world: World, bot: Bot, triggers: Sequence[Trigger]) -> None:
    """Meta applied each write and holds its answer (the sandbox's `timeout` fault)."""
    rules = [t.held_at_meta() for t in triggers]
    await world.control("POST", "/_sandbox/faults", {"rules": rules})
    await _post_all(world, bot, triggers)
    applied = functools.partial(held_at_meta, world, triggers)
    await until(applied, SIGNAL_SECONDS, "every Graph write to reach the sandbox", every=0.1)
    await bot.kill()


async def answered(world: World, bot: Bot, triggers: Sequence[Trigger]) -> None:
    """Meta applied each write and its answer reached the bot, whose next write (recording
    it) waits for the lock the test took while the answers were held at the proxy."""
    held = [world.proxy.hold(t.request_line, t.request_body, answer=True) for t in triggers]
    await _post_all(world, bot, triggers)
    await _signals([h.at_proxy for h in held], "Meta's answers to reach the proxy")
    lock = WriteLock(world.database_url)
    await lock.take(*sorted({table for t in triggers for table in t.tables}))
    try:
        for h in held:
            h.release()
        await _signals([h.delivered for h in held], "Meta's answers to reach the bot")
        records = Counter(t.records for t in triggers)
        await _blocked(lock, records, "the bot's records of Meta's answers to wait")
        await bot.kill()
    finally:
        await lock.release()


async def after_commit(world: World, bot: Bot, triggers: Sequence[Trigger]) -> None:
    """Meta's answers committed; each flow's first Slack post is on the wire, never arrives."""
    held = [world.slack.hold(t.first_post) for t in triggers]
    await _post_all(world, bot, triggers)
    await _signals([h.arrived for h in held], "every first Slack post after the commit", triggers)
    in_flight = [r.id for r in await world.rows() if r.status in IN_FLIGHT]
    assert not in_flight, f"requests {in_flight} not committed before their first post"
    await bot.kill()


async def between_posts(world: World, bot: Bot, triggers: Sequence[Trigger]) -> None:
    """Slack took each flow's first post; the second is on the wire and never arrives."""
    held = [world.slack.hold(t.second_post) for t in triggers if t.second_post is not None]
    assert len(held) == len(triggers), "a flow with one post has no 'between posts'"
    await _post_all(world, bot, triggers)
    await _signals([h.arrived for h in held], "every second Slack post", triggers)
    for t in triggers:
        first = t.first_post
        assert any(first(d.kind, d.name, d.params) for d in world.slack.delivered), t.flow
    await bot.kill()


POINTS: dict[str, KillPoint] = {
    "before-job-row": before_job_row,
    "after-ack": after_ack,
    "meta-holds": meta_holds,
    "meta-answered": answered,
    "after-commit": after_commit,
    "between-posts": between_posts,
}
