"""Benchmark 4: App Home and `/pixel pending` over 100,000 share requests.

Both views are `looking.waiting` plus a pure builder; the figure is the SQL execution time
(cursor events), median of repetitions after a warm-up. The seeded spread: 50 owners with 4
pixels each, 500 agencies (Zipf-like: a few are busy), 2,000 requesters, 30% pending; the
viewer administers three agencies (the busiest, a middling and a quiet one) and made some
requests. Set PIXELBOT_BENCH_EXPERIMENT_INDEX to also time an extra index (never reported
as the figure).
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import perf_counter
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.figures import Figure, at_most, info, median
from benchmarks.seeding import (
    SqlTimer,
    analyze,
    backends,
    bulk_insert,
    graph_client,
    make_context,
    register,
    scratch_engine,
)
from bot.flows import looking
from bot.flows.context import Context
from bot.sandbox import create_sandbox
from bot.slack.look_blocks import pending_message
from bot.slack.view_blocks import home_view
from bot.store.models import ShareRequest, utcnow

BENCH = "views"
REQUESTS, OWNERS, PIXELS_PER_OWNER, AGENCIES, REQUESTERS = 100_000, 50, 4, 500, 2_000
VIEWER = "UBENCHVIEWER"
VIEWER_AGENCY_RANKS = (0, 50, 400)  # busiest, middling, quiet
STATUSES = {
    "pending": 30,
    "active": 35,
    "declined": 10,
    "expired": 8,
    "revoked": 7,
    "cancelled": 5,
    "failed": 5,
}
DB_LIMIT_MS = 50.0
STATEMENT_LIMIT = 5
# EXPERIMENTAL: comma-separated columns, e.g. "agency_business_id,status,created_at".
EXPERIMENT = os.environ.get("PIXELBOT_BENCH_EXPERIMENT_INDEX")

Render = Callable[[looking.Waiting, datetime], object]
VIEWS: dict[str, Render] = {
    "App Home": lambda waiting, now: home_view(waiting, now, False),
    "/pixel pending": pending_message,
}


def _owner(n: int) -> str:
    return str(610_000_000_000_001 + n)


def _agency(n: int) -> str:
    return str(630_000_000_000_001 + n)


def _requester(n: int) -> str:
    return VIEWER if n == 0 else f"UREQ{n:06d}"


def _row(rng: random.Random, number: int, start: datetime, weights: list[float]) -> dict[str, Any]:
    owner = rng.randrange(OWNERS)
    agency = rng.choices(range(AGENCIES), cum_weights=weights)[0]
    status = rng.choices(list(STATUSES), weights=list(STATUSES.values()))[0]
    created = start + timedelta(seconds=number * 315)  # a year of requests, ids in time order
    decided = None if status == "pending" else created + timedelta(hours=rng.randrange(1, 72))
    return {
        "pixel_id": str(
            620_000_000_000_001 + owner * PIXELS_PER_OWNER + rng.randrange(PIXELS_PER_OWNER)
        ),
        "owner_business_id": _owner(owner),
        "agency_business_id": _agency(agency),
        "permitted_tasks": ["ANALYZE", "ADVERTISE"],
        "status": status,
        "pending_request_id": None if status == "failed" else str(640_000_000_000_001 + number),
        "requester_slack_id": _requester(rng.randrange(REQUESTERS)),
        "note": "for the spring campaign" if number % 10 == 0 else None,
        "pixel_name": f"Owner {owner} - Website",
        "owner_name": f"Owner {owner}",
        "agency_name": f"Agency {agency}",
        "slack_channel": "CAPPROVALS",
        "slack_ts": f"{1700000000 + number}.000100",
        "created_at": created,
        "updated_at": decided or created,
        "decided_at": decided,
        "reminders_sent": 0,
    }


def _rows() -> list[dict[str, Any]]:
    """100,000 requests with a fixed seed, oldest first."""
    rng = random.Random(20240901)
    weights, total = [], 0.0
    for rank in range(AGENCIES):
        total += 1 / (rank + 1) ** 0.8
        weights.append(total)
    start = utcnow() - timedelta(days=365)
    return [_row(rng, number, start, weights) for number in range(REQUESTS)]


async def _seed(engine: AsyncEngine) -> None:
    """Businesses (owners and agencies, one admin each), the viewer's grants, the requests."""
    businesses = [(_owner(n), f"Owner {n}", f"EAABenchOwner{n}") for n in range(OWNERS)]
    businesses += [(_agency(n), f"Agency {n}", f"EAABenchAgency{n}") for n in range(AGENCIES)]
    admins = [(f"UADM{i:06d}", b[0]) for i, b in enumerate(businesses)]
    admins += [(VIEWER, _agency(rank)) for rank in VIEWER_AGENCY_RANKS]
    await register(engine, businesses, admins)
    await bulk_insert(engine, ShareRequest, _rows())
    await analyze(engine)


@dataclass(frozen=True)
class Sample:
    """One view built: SQL time, statements, and the whole time including rendering."""

    sql_ms: float
    statements: int
    total_ms: float


async def _build(ctx: Context, timer: SqlTimer, render: Render) -> Sample:
    timer.reset()
    start = perf_counter()
    waiting = await looking.waiting(ctx, VIEWER)
    render(waiting, utcnow())
    total = perf_counter() - start
    if not waiting.to_decide or not waiting.mine:
        raise RuntimeError("the seeded viewer should have requests to decide and their own")
    return Sample(timer.seconds * 1000, timer.statements, total * 1000)


async def _samples(ctx: Context, timer: SqlTimer, reps: int) -> dict[str, list[Sample]]:
    """One warm-up per view, then `reps` rounds with the views side by side."""
    samples: dict[str, list[Sample]] = {name: [] for name in VIEWS}
    for render in VIEWS.values():
        await _build(ctx, timer, render)
    for _ in range(reps):
        for name, render in VIEWS.items():
            samples[name].append(await _build(ctx, timer, render))
    return samples


async def _explain(engine: AsyncEngine, statement: str, params: Any) -> list[str]:
    """The plan of one statement as the backend chose it (EXPLAIN ANALYZE on PostgreSQL)."""
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    async with engine.connect() as conn:
        rows = (await conn.exec_driver_sql(prefix + statement, params)).all()
    return [str(row[0]) if postgres else str(row[-1]) for row in rows]


async def _print_plan(engine: AsyncEngine, timer: SqlTimer, label: str) -> None:
    """The costliest statement of the last build, its time and its plan."""
    statement, params, seconds = max(timer.executed, key=lambda item: item[2])
    print(f"  {label}: {seconds * 1000:.2f} ms  {' '.join(statement.split())[:160]}")
    for line in await _explain(engine, statement, params):
        print(f"      {line}")


async def _experiment(
    engine: AsyncEngine, ctx: Context, timer: SqlTimer, reps: int, backend: str
) -> None:
    """EXPERIMENTAL, scratch database only: the same views with one extra index."""
    columns = [c.strip() for c in (EXPERIMENT or "").split(",") if c.strip()]
    async with engine.begin() as conn:
        await conn.exec_driver_sql(
            f"CREATE INDEX ix_bench_experiment ON share_requests ({', '.join(columns)})"
        )
    await analyze(engine)
    samples = await _samples(ctx, timer, reps)
    for name, runs in samples.items():
        sql = median([s.sql_ms for s in runs])
        print(f"  EXPERIMENT ({backend}, +index on {columns}): {name} SQL {sql:.2f} ms")
    await _print_plan(engine, timer, f"EXPERIMENT {backend} plan")


def _figures(backend: str, samples: dict[str, list[Sample]]) -> list[Figure]:
    figures: list[Figure] = []
    for name, runs in samples.items():
        sql = median([s.sql_ms for s in runs])
        statements = max(s.statements for s in runs)
        total = median([s.total_ms for s in runs])
        figures += [
            at_most(BENCH, f"{name} SQL time ({backend})", sql, "ms", DB_LIMIT_MS),
            at_most(BENCH, f"{name} statements ({backend})", statements, "stmts", STATEMENT_LIMIT),
            info(BENCH, f"{name} total incl. rendering ({backend})", total, "ms"),
        ]
    return figures


async def _backend(backend: str, reps: int) -> list[Figure]:
    async with scratch_engine(backend) as engine:
        started = perf_counter()
        await _seed(engine)
        print(f"  {backend}: seeded {REQUESTS} requests in {perf_counter() - started:.1f} s")
        sandbox = create_sandbox()  # unused by these views; the context needs a Meta port
        async with graph_client(httpx.ASGITransport(app=sandbox)) as graph:
            ctx = make_context(engine, graph)
            timer = SqlTimer(engine)
            samples = await _samples(ctx, timer, reps)
            await _print_plan(engine, timer, f"{backend} plan")
            if EXPERIMENT:
                await _experiment(engine, ctx, timer, reps, backend)
            timer.close()
    return _figures(backend, samples)


async def run(quick: bool) -> list[Figure]:
    """Per backend: one warm-up, then medians of 5 (quick) or 15 repetitions."""
    figures: list[Figure] = []
    for backend in await backends():
        figures += await _backend(backend, 5 if quick else 15)
    return figures
