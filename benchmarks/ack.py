"""Ack under load (benchmark 1) and memory (benchmark 5), real processes on loopback, on
SQLite and on PostgreSQL.

Fifty keep-alive clients send signed `/pixel info PIXEL` commands and Approve clicks, each
with a fresh trigger_id as Slack sends them, in alternate rounds to a bare Bolt app
(listeners that only ack, same signing, same server stack) and to `pixelbot serve`.

pixelbot writes each request as a job row before it acks (INSERT and commit, response_url
sealed) and runs the job in the same process after the ack: the Graph sandbox answers every
call after 2 s, the fake Slack at once. So its figures are acks measured while the process
also runs what it accepted (64 jobs at a time, the rest waiting in memory or in the table).
Each round prints how many of its jobs finished within it; the next round starts once all
have. A third server, pixelbot with its jobs held back (written, never run; its own
database), separates the cost of the durable write from that of the jobs: it is a
diagnosis, its figures have no targets.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.ack_stack import (
    ACME_ADMIN,
    NOVA,
    NOVA_ADMINS,
    PIXELS,
    Server,
    Stack,
    start_stack,
)
from benchmarks.figures import Figure, at_least, at_most, info, median, percentile
from benchmarks.instrumented import print_profile
from benchmarks.processes import Processes, cpu_seconds, peak_rss_mb, wait_quiet
from benchmarks.seeding import backends, scratch_database
from bot.slack.ids import Action
from bot.store.db import create_engine
from tests.signing import action_body, command_body, signed_headers

BENCH = "ack"
CLIENTS = 50
P99_RATIO = 1.5  # pixelbot's ack p99 at most this times the bare app's
RPS_RATIO = 0.7  # pixelbot's throughput at least this share of the bare app's
DRAIN_S = 300.0  # past this, a round's leftover jobs would share the next round (printed)
# A folder: pixelbot also runs one round under cProfile, its statistics written there.
PROFILE_ENV = "PIXELBOT_BENCH_PROFILE"

Request = tuple[bytes, dict[str, str]]


@dataclass
class Round:
    """One load round against one server: ack latencies, failures, elapsed and CPU time."""

    latencies_ms: list[float] = field(default_factory=list)
    acked: int = 0  # 200 answers, warm-up included
    failures: int = 0  # non-200 answers and transport errors
    seconds: float = 0.0
    cpu_s: float = 0.0  # the server process's CPU time during the round
    jobs: int = 0  # pixelbot: job rows the round wrote
    finished: int = 0  # pixelbot: of those, finished when the round ended
    drain_s: float = 0.0  # pixelbot: from the round's end until every job had finished

    @property
    def rps(self) -> float:
        """Answered requests per second."""
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    @property
    def p99(self) -> float:
        """The round's 99th percentile ack latency."""
        return percentile(self.latencies_ms, 0.99)

    @property
    def cpu_ms(self) -> float:
        """Server CPU time per answered request, within the round."""
        return self.cpu_s * 1000 / self.acked if self.acked else 0.0


def _request(stack: Stack, client: int, sent: int) -> Request:
    """The client's next request, signed now: `/pixel info` and an Approve click in turn."""
    if sent % 2 == 0:
        body = command_body(
            f"info {PIXELS[client % len(PIXELS)]}",
            user_id=ACME_ADMIN,
            response_url=stack.slack.response_url(f"c{client}"),
        )
    else:
        body = action_body(
            Action.APPROVE.value,
            str(stack.pending[client % len(stack.pending)]),
            NOVA_ADMINS[client % len(NOVA_ADMINS)],
            stack.slack.response_url(f"a{client}"),
            channel=NOVA.channel or "",
        )
    return body.encode(), signed_headers(body)


async def _client(
    http: httpx.AsyncClient, url: str, make: Callable[[int], Request], until: float, into: Round
) -> None:
    """Send requests one at a time until the deadline (request 0 was the warm-up)."""
    sent = 1
    while True:
        body, headers = make(sent)  # built before the clock starts: the server is measured
        sent += 1
        if (start := time.perf_counter()) >= until:
            return
        try:
            response = await http.post(url, content=body, headers=headers)
        except httpx.HTTPError:
            into.failures += 1
            continue
        into.latencies_ms.append((time.perf_counter() - start) * 1000)
        ok = response.status_code == 200
        into.acked += int(ok)
        into.failures += int(not ok)


async def load(stack: Stack, server: Server, seconds: float) -> Round:
    """CLIENTS connections (opened and warmed first) sending for `seconds`."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(limits=limits, timeout=30.0) for _ in range(CLIENTS)]
    makers = [functools.partial(_request, stack, i) for i in range(CLIENTS)]
    result = Round()
    try:
        # One request each opens its connection; not timed, but counted as acked.
        first = [make(0) for make in makers]
        warm = await asyncio.gather(
            *(
                c.post(server.url, content=b, headers=h)
                for c, (b, h) in zip(clients, first, strict=True)
            )
        )
        result.acked = sum(r.status_code == 200 for r in warm)
        cpu_before = cpu_seconds(server.pid)
        start = time.perf_counter()
        until = start + seconds
        await asyncio.gather(
            *(
                _client(c, server.url, m, until, result)
                for c, m in zip(clients, makers, strict=True)
            )
        )
        result.seconds = time.perf_counter() - start
        result.cpu_s = cpu_seconds(server.pid) - cpu_before
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return result


async def _bot_round(stack: Stack, seconds: float) -> Round:
    """One pixelbot round, then its jobs followed until every one has finished."""
    before = await stack.jobs()
    result = await load(stack, stack.bot, seconds)
    after = await stack.jobs()
    result.jobs = sum(after.values()) - sum(before.values())
    result.finished = sum(after.get(s, 0) - before.get(s, 0) for s in ("done", "given_up"))
    start = time.monotonic()
    while True:
        left = await stack.unfinished()
        if not left or time.monotonic() - start >= DRAIN_S:
            break
        await asyncio.sleep(1.0)
    result.drain_s = time.monotonic() - start
    if left:
        print(f"    {left} jobs unfinished {DRAIN_S:g} s after the round: the next shares them")
    return result


@dataclass
class Rounds:
    """Every round against each server, in the order they ran."""

    bare: list[Round] = field(default_factory=list)
    bot: list[Round] = field(default_factory=list)
    held: list[Round] = field(default_factory=list)


def _describe(backend: str, number: int, bare: Round, bot: Round, held: Round) -> None:
    print(
        f"  {backend} round {number}: bare Bolt {len(bare.latencies_ms)} acks "
        f"(p99 {bare.p99:.0f} ms, {bare.cpu_ms:.2f} ms CPU each); pixelbot "
        f"{len(bot.latencies_ms)} acks (p99 {bot.p99:.0f} ms, {bot.cpu_ms:.2f} ms CPU each, "
        f"its jobs' work included), {bot.jobs} jobs written, {bot.finished} finished within "
        f"the round, the last {bot.drain_s:.0f} s after it; jobs held back "
        f"{len(held.latencies_ms)} acks (p99 {held.p99:.0f} ms, {held.cpu_ms:.2f} ms CPU each)",
        flush=True,
    )


async def rounds(stack: Stack, count: int, seconds: float) -> Rounds:
    """Alternate rounds (bare, pixelbot, held back, ...), each started with its server quiet."""
    done = Rounds()
    for number in range(1, count + 1):
        await wait_quiet(stack.bare.pid)
        done.bare.append(await load(stack, stack.bare, seconds))
        await wait_quiet(stack.bot.pid)
        done.bot.append(await _bot_round(stack, seconds))
        await wait_quiet(stack.bot.pid)
        await wait_quiet(stack.held.pid)
        done.held.append(await load(stack, stack.held, seconds))
        _describe(stack.backend, number, done.bare[-1], done.bot[-1], done.held[-1])
    return done


def _p(rounds: list[Round], fraction: float) -> float:
    return median([percentile(r.latencies_ms, fraction) for r in rounds])


def _ratio(of: list[Round], to: list[Round], value: Callable[[Round], float]) -> float:
    """The ratio in each pair of rounds run side by side, then the median of those."""
    return median([value(a) / value(b) for a, b in zip(of, to, strict=True) if value(b)])


def _rps(r: Round) -> float:
    return r.rps


def _p99(r: Round) -> float:
    return r.p99


def figures(stack: Stack, done: Rounds) -> list[Figure]:
    """Medians over rounds; ratios taken per pair of rounds, then their median."""
    bare, bot, held = done.bare, done.bot, done.held
    on = f"({stack.backend})"
    jobs, acked = sum(r.jobs for r in bot), sum(r.acked for r in bot)
    finished = median([100 * r.finished / r.jobs for r in bot if r.jobs])
    return [
        info(BENCH, f"pixelbot ack p50 {on}", _p(bot, 0.50), "ms"),
        info(BENCH, f"pixelbot ack p99 {on}", _p(bot, 0.99), "ms"),
        info(BENCH, f"pixelbot throughput {on}", median([r.rps for r in bot]), "req/s"),
        info(BENCH, f"bare Bolt ack p50 {on}", _p(bare, 0.50), "ms"),
        info(BENCH, f"bare Bolt ack p99 {on}", _p(bare, 0.99), "ms"),
        info(BENCH, f"bare Bolt throughput {on}", median([r.rps for r in bare]), "req/s"),
        at_most(BENCH, f"ack p99, pixelbot / bare Bolt {on}", _ratio(bot, bare, _p99), "x", 1.5),
        at_least(
            BENCH, f"throughput, pixelbot / bare Bolt {on}", _ratio(bot, bare, _rps), "x", 0.7
        ),
        at_most(BENCH, f"pixelbot non-200 answers {on}", sum(r.failures for r in bot), "req", 0),
        at_most(BENCH, f"acks without a job row {on}", max(0, acked - jobs), "req", 0),
        info(BENCH, f"jobs finished within their round {on}", finished, "%"),
        info(BENCH, f"last job finished, after its round {on}", _median(bot, "drain_s"), "s"),
        info(BENCH, f"CPU per request, pixelbot {on}", _median(bot, "cpu_ms"), "ms"),
        info(BENCH, f"CPU per request, bare Bolt {on}", _median(bare, "cpu_ms"), "ms"),
        info(BENCH, f"jobs held back: ack p99 / bare {on}", _ratio(held, bare, _p99), "x"),
        info(BENCH, f"jobs held back: throughput / bare {on}", _ratio(held, bare, _rps), "x"),
        info(BENCH, f"jobs held back: non-200 answers {on}", sum(r.failures for r in held), "req"),
        info(BENCH, f"jobs held back: CPU per request {on}", _median(held, "cpu_ms"), "ms"),
        at_most("memory", f"pixelbot peak RSS, idle {on}", stack.bot_idle_mb, "MB", 120),
        info("memory", f"pixelbot peak RSS, after load {on}", peak_rss_mb(stack.bot.pid), "MB"),
        info("memory", f"bare Bolt peak RSS, idle {on}", stack.bare_idle_mb, "MB"),
    ]


def _median(rounds: list[Round], attribute: str) -> float:
    return median([float(getattr(r, attribute)) for r in rounds])


async def profile_round(stack: Stack, seconds: float, path: Path) -> None:
    """One more pixelbot round with the profiler on (its figures are not reported)."""
    await wait_quiet(stack.bot.pid)
    stack.bot.started.proc.send_signal(signal.SIGUSR1)
    result = await load(stack, stack.bot, seconds)
    stack.bot.started.proc.send_signal(signal.SIGUSR2)
    print(f"  {stack.backend} profiled round: {len(result.latencies_ms)} acks (slowed by it)")
    for _ in range(100):  # the process writes the statistics when the signal arrives
        if _written(path):
            break
        await asyncio.sleep(0.1)
    print_profile(path, f"{stack.backend}: pixelbot during one round")


def _written(path: Path) -> bool:
    return path.exists()


def _profile_path(backend: str) -> Path | None:
    """Where to write the profile of a round, when asked for one (see PROFILE_ENV)."""
    folder = os.environ.get(PROFILE_ENV)
    if not folder:
        return None
    path = Path(folder).resolve() / f"ack-{backend}.prof"
    path.unlink(missing_ok=True)
    return path


async def _one_backend(backend: str, count: int, seconds: float) -> list[Figure]:
    profile = _profile_path(backend)
    with tempfile.TemporaryDirectory(prefix="pixelbot-ack-") as tmp:
        async with scratch_database(backend) as url, scratch_database(backend) as held_url:
            db = create_engine(url)
            try:
                async with Processes(Path(tmp)) as procs:
                    stack = await start_stack(procs, backend, (url, held_url), db, profile)
                    done = await rounds(stack, count, seconds)
                    if profile is not None:
                        await profile_round(stack, seconds, profile)
                    return figures(stack, done)
            finally:
                await db.dispose()


async def run(quick: bool) -> list[Figure]:
    """Benchmarks 1 and 5 per backend; 3 alternate rounds of 10 s (1 of 4 s with `quick`)."""
    count, seconds = (1, 4.0) if quick else (3, 10.0)
    result: list[Figure] = []
    for backend in await backends():
        result += await _one_backend(backend, count, seconds)
    return result
