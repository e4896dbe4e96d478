"""Benchmark 3: one reconciler pass over 10,000 pending requests (every 10th approved at Meta).

Graph calls are counted at the HTTP transport, SQL execution time with the engine's cursor
events. The sandbox answers at once (no injected latency) and its hourly call budget is
lifted, so the pass measures pixelbot rather than Meta's quota.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import perf_counter
from typing import Any

import httpx

from benchmarks.figures import Figure, at_most, info, median
from benchmarks.seeding import (
    ACME,
    NOVA,
    PIXEL,
    HttpLog,
    SqlTimer,
    analyze,
    backends,
    bulk_insert,
    graph_client,
    make_context,
    print_others,
    print_top,
    register,
    scratch_engine,
)
from bot.flows.leases import new_worker_id
from bot.flows.reconciling import ReconcileReport, reconcile
from bot.graph.batch import MAX_BATCH
from bot.sandbox import create_sandbox
from bot.sandbox.loader import load_demo_world
from bot.sandbox.world import Agreement, World
from bot.store.models import ShareRequest, utcnow

BENCH = "reconcile"
REQUESTS = 10_000
APPROVE_EVERY = 10  # ~10% were approved at Meta since the last pass
FIRST_AGREEMENT = 800_900_000_000_001
CALL_LIMIT = math.ceil(REQUESTS / MAX_BATCH)
TASKS = ["ANALYZE", "ADVERTISE"]


@dataclass(frozen=True)
class PassRun:
    """One pass: Graph calls, wall time, SQL time and statements."""

    batch_calls: int
    other_calls: int
    wall_ms: float
    sql_ms: float
    statements: int


def _agreement_id(number: int) -> str:
    return str(FIRST_AGREEMENT + number)


def _world(now: datetime) -> World:
    """The demo world plus one pending agreement per request; every 10th approved."""
    world = load_demo_world()
    world.settings.hourly_call_budget = 10**9
    for number in range(REQUESTS):
        agreement_id = _agreement_id(number)
        assets = {PIXEL: list(TASKS)}
        world.agreements[agreement_id] = Agreement(agreement_id, ACME, NOVA, "PENDING", now, assets)
    for number in range(0, REQUESTS, APPROVE_EVERY):
        world.decide(_agreement_id(number), "APPROVE")
    return world


def _rows(now: datetime) -> list[dict[str, Any]]:
    """Pending share requests from Acme to Nova, each with its own pending_request_id."""
    return [
        {
            "pixel_id": PIXEL,
            "owner_business_id": ACME,
            "agency_business_id": NOVA,
            "permitted_tasks": TASKS,
            "status": "pending",
            "pending_request_id": _agreement_id(number),
            "requester_slack_id": f"UREQ{number % 200:05d}",
            "pixel_name": "Acme Shoes - Website",
            "owner_name": "Acme Shoes",
            "agency_name": "Nova Media",
            "created_at": now - timedelta(minutes=REQUESTS - number),
            "updated_at": now - timedelta(minutes=REQUESTS - number),
            "reminders_sent": 0,
        }
        for number in range(REQUESTS)
    ]


async def _pass(backend: str) -> PassRun:
    """Seed a scratch database and the sandbox (not timed), then time one pass."""
    now = utcnow()
    sandbox = create_sandbox(_world(now))
    http = HttpLog(httpx.ASGITransport(app=sandbox))
    async with scratch_engine(backend) as engine, graph_client(http) as graph:
        world = sandbox.world
        await register(
            engine, [(b, world.businesses[b].name, world.token_for(b)) for b in (ACME, NOVA)]
        )
        await bulk_insert(engine, ShareRequest, _rows(now))
        await analyze(engine)
        timer = SqlTimer(engine)
        start = perf_counter()
        report = await reconcile(make_context(engine, graph), new_worker_id())
        wall = perf_counter() - start
        timer.close()
    _check(report)
    print_others(http, f"{backend}: non-batch calls")
    print_top(timer, 4, f"{backend}: SQL is {timer.seconds / wall:.0%} of the pass")
    return PassRun(
        len(http.batches()),
        len(http.others()),
        wall * 1000,
        timer.seconds * 1000,
        timer.statements,
    )


def _check(report: ReconcileReport) -> None:
    """The pass did the work it was seeded with."""
    approved = math.ceil(REQUESTS / APPROVE_EVERY)
    if len(report.settled) != approved or report.unreadable or report.revoked:
        raise RuntimeError(
            f"unexpected pass: settled {len(report.settled)} (want {approved}), "
            f"unreadable {report.unreadable}, revoked {len(report.revoked)}"
        )


def _figures(backend: str, runs: list[PassRun]) -> list[Figure]:
    calls = [r.batch_calls + r.other_calls for r in runs]
    return [
        at_most(BENCH, f"Graph HTTP calls ({backend})", median(calls), "calls", CALL_LIMIT),
        info(
            BENCH, f"  of which batches ({backend})", median([r.batch_calls for r in runs]), "calls"
        ),
        info(BENCH, f"wall time ({backend})", median([r.wall_ms for r in runs]), "ms"),
        info(BENCH, f"SQL execution time ({backend})", median([r.sql_ms for r in runs]), "ms"),
        info(BENCH, f"SQL statements ({backend})", median([r.statements for r in runs]), "stmts"),
    ]


async def run(quick: bool) -> list[Figure]:
    """Medians of 3 passes per backend (1 with --quick), each on a freshly seeded database."""
    figures: list[Figure] = []
    for backend in await backends():
        runs = [await _pass(backend) for _ in range(1 if quick else 3)]
        figures += _figures(backend, runs)
    return figures
