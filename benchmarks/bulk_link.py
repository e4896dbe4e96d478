"""Benchmark 2: link 500 ad accounts to one pixel with every Graph call taking 100 ms.

pixelbot's `accounts.link` (pre-checks, then Graph batches of 50) beside the same links made
one `POST /{pixel}/shared_accounts` at a time, each on a fresh sandbox world.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from time import perf_counter

import httpx
from pydantic import SecretStr

from benchmarks.figures import Figure, at_most, info, median
from benchmarks.seeding import (
    ACME,
    ACME_ADMIN,
    BRIGHT,
    PIXEL,
    HttpLog,
    graph_client,
    make_context,
    print_others,
    register,
    scratch_engine,
)
from bot.flows import accounts
from bot.graph.batch import MAX_BATCH
from bot.sandbox import Faults, create_sandbox
from bot.sandbox.loader import load_demo_world
from bot.sandbox.world import AdAccount, World

BENCH = "bulk_link"
ACCOUNTS = 500
LATENCY_MS = 100
FIRST_ACCOUNT = 700_800_900_000_001
BATCH_CALLS = math.ceil(ACCOUNTS / MAX_BATCH)
BATCH_PHASE_LIMIT_MS = 1.5 * BATCH_CALLS * LATENCY_MS


@dataclass(frozen=True)
class LinkRun:
    """One batched link: calls made, the batch phase and the whole use-case."""

    batch_calls: int
    other_calls: int
    batch_ms: float
    wall_ms: float


def _account_ids() -> list[str]:
    return [str(FIRST_ACCOUNT + i) for i in range(ACCOUNTS)]


def _world() -> World:
    """The demo world plus 500 ad accounts owned by Bright (so Bright may link them)."""
    world = load_demo_world()
    for number, account in enumerate(_account_ids()):
        world.ad_accounts[account] = AdAccount(account, f"Bright bench {number}", BRIGHT)
    return world


async def _batched() -> LinkRun:
    """`accounts.link` as an Acme admin, for Bright, over SQLite; every HTTP call logged."""
    sandbox = create_sandbox(_world(), Faults(latency_ms=LATENCY_MS))
    world = sandbox.world
    http = HttpLog(httpx.ASGITransport(app=sandbox))
    async with scratch_engine("sqlite") as engine, graph_client(http) as graph:
        businesses = [(b, world.businesses[b].name, world.token_for(b)) for b in (ACME, BRIGHT)]
        await register(engine, businesses, [(ACME_ADMIN, ACME)])
        ctx = make_context(engine, graph)
        start = perf_counter()
        report = await accounts.link(ctx, ACME_ADMIN, PIXEL, BRIGHT, _account_ids())
        wall = perf_counter() - start
    if len(report.done) != ACCOUNTS:
        raise RuntimeError(f"linked {len(report.done)} of {ACCOUNTS}: {report.refused[:3]}")
    print_others(http, "pre-check calls")
    batches = http.batches()
    batch_s = max(c.end for c in batches) - min(c.start for c in batches)
    return LinkRun(len(batches), len(http.others()), batch_s * 1000, wall * 1000)


async def _one_by_one() -> float:
    """Milliseconds to make the same links one call per account, sequentially."""
    sandbox = create_sandbox(_world(), Faults(latency_ms=LATENCY_MS))
    token = SecretStr(sandbox.world.token_for(BRIGHT))
    async with graph_client(httpx.ASGITransport(app=sandbox)) as graph:
        start = perf_counter()
        for account in _account_ids():
            await graph.link_ad_account(token, PIXEL, BRIGHT, account)
        elapsed = perf_counter() - start
    linked = sandbox.world.pixels[PIXEL].linked_accounts
    if len({a for b, a in linked if b == BRIGHT} & set(_account_ids())) != ACCOUNTS:
        raise RuntimeError("the one-by-one links did not all land")
    return elapsed * 1000


async def run(quick: bool) -> list[Figure]:
    """Medians of 3 side-by-side runs (1 with --quick)."""
    runs: list[LinkRun] = []
    singles: list[float] = []
    for _ in range(1 if quick else 3):
        runs.append(await _batched())
        singles.append(await _one_by_one())
    speedups = [s / r.wall_ms for s, r in zip(singles, runs, strict=True)]
    return [
        at_most(BENCH, "batch HTTP calls", median([r.batch_calls for r in runs]), "calls", 10),
        info(
            BENCH,
            "other HTTP calls (pre-checks, paging)",
            median([r.other_calls for r in runs]),
            "calls",
        ),
        at_most(
            BENCH,
            "batch phase wall time (first to last batch call)",
            median([r.batch_ms for r in runs]),
            "ms",
            BATCH_PHASE_LIMIT_MS,
        ),
        info(
            BENCH,
            "accounts.link wall time (whole use-case)",
            median([r.wall_ms for r in runs]),
            "ms",
        ),
        info(BENCH, "one call per account wall time", median(singles), "ms"),
        info(BENCH, "speedup, one-by-one / accounts.link", median(speedups), "x"),
    ]
