"""Benchmark 6: Slack brought up to 1,000 share-request changes while Slack rate-limits.

The changes are made as the domain makes them (`ShareRequests.move`, which bumps the
version and marks the row due): 500 requests newly pending at Meta, whose approval card is
to be posted (their requester heard it from the job that asked), and 500 approved at Meta
while nobody clicked (found by the reconciler), whose card is to be redrawn, with a thread
reply and a DM to the requester. That is 2,000 Web API calls Slack must accept.

The fake Slack answers every 10th call of each method with HTTP 429, Retry-After: 1. The
Slack sync runs as `pixelbot serve` runs it (`SlackSync.start`, the production Web API
client with its retry handlers, the production engine), as one replica and as two replicas
on one database (an engine, client and worker id each; in this process, beside the fake),
until Slack shows every change. Reported: the time until then, Web API calls per change,
and accepted calls that were repeated (by place: a request's card, its redraw, its thread
reply, its requester's DM). A last run gives two replicas 100 changes with Retry-After: 10,
as Slack says after a burst.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.figures import Figure, at_least, at_most, info
from benchmarks.limiting_slack import LimitingSlack, Place
from benchmarks.seeding import (
    ACME,
    NOVA,
    backends,
    bulk_insert,
    graph_client,
    make_context,
    register,
    scratch_engine,
)
from bot.slack.sync import SlackSync
from bot.slack.web_client import web_client
from bot.store.db import create_engine, session_factory
from bot.store.models import Business, ShareRequest, utcnow
from bot.store.repositories import ShareRequests
from tests.fakes.slack import BOT_TOKEN

BENCH = "delivery"
CHANNEL = "C0NOVAAPPR"
FIRST_PIXEL = 300_400_500_000_000
CHANGES = 1_000
LIMIT_EVERY = 10
RETRY_AFTER_S = 1
# Slack's Retry-After is often longer (tens of seconds for a burst): one more run, with 10 s,
# shows what becomes of a batch of leased rows that outlasts its lease (60 s).
LONG_RETRY_AFTER_S = 10
LONG_RETRY_CHANGES = 100
GIVE_UP_S = 1200.0  # a run that has not shown everything by then is reported as it stands
SETTLE_S = 5.0  # after Slack shows everything: time for a late, repeated call to arrive
PROGRESS_S = 30.0


def _row(number: int, now: datetime) -> dict[str, Any]:
    """A request before its change: being shared (even), or pending with its card (odd)."""
    card = number % 2 == 1
    return {
        "pixel_id": str(FIRST_PIXEL + number),
        "owner_business_id": ACME,
        "agency_business_id": NOVA,
        "permitted_tasks": ["ANALYZE", "ADVERTISE"],
        "status": "pending" if card else "submitting",
        "pending_request_id": str(800_900_000_000_000 + number) if card else None,
        "requester_slack_id": f"UREQ{number % 100:05d}",
        "pixel_name": f"Bench pixel {number}",
        "owner_name": "Acme Shoes",
        "agency_name": "Nova Media",
        "created_at": now - timedelta(minutes=5),
        "updated_at": now - timedelta(minutes=5),
        "slack_channel": CHANNEL if card else None,
        "slack_ts": f"1600000000.{number:06d}" if card else None,
        "card_status": "pending" if card else None,
        "requester_status": "pending" if card else None,
    }


Changes = dict[int, set[Place]]  # request id -> the places its change must reach


async def seed(engine: AsyncEngine, count: int) -> Changes:
    """The businesses and requests, then the changes; where each must show in Slack."""
    now = utcnow()
    await register(engine, [(ACME, "Acme Shoes", "EAAbench1"), (NOVA, "Nova Media", "EAAb2")])
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        await session.execute(
            update(Business).where(Business.business_id == NOVA).values(approvals_channel=CHANNEL)
        )
    await bulk_insert(engine, ShareRequest, [_row(n, now) for n in range(count)])
    changes: Changes = {}
    async with sessions.begin() as session:
        rows = (await session.execute(select(ShareRequest.id, ShareRequest.slack_ts))).all()
        requests = ShareRequests(session)
        for request_id, ts in rows:
            if ts is None:  # Meta answered the share: pending, the card to post
                agreement = str(800_900_500_000_000 + request_id)
                await requests.move(
                    request_id, "submitting", "pending", pending_request_id=agreement
                )
                # The job that asked told its requester (jobs.finish does this).
                await session.execute(
                    update(ShareRequest)
                    .where(ShareRequest.id == request_id)
                    .values(requester_status="pending")
                )
                changes[request_id] = {("card", str(request_id))}
            else:  # approved at Meta: redraw, thread reply, the requester's DM
                await requests.move(request_id, "pending", "active", decided_at=now)
                places = {("update", str(request_id)), ("thread", ts), ("dm", str(request_id))}
                changes[request_id] = places
    return changes


@dataclass(frozen=True)
class Setup:
    """What one run is made of."""

    backend: str
    replicas: int
    changes: int
    retry_after: int = RETRY_AFTER_S

    @property
    def label(self) -> str:
        """How the figures name it."""
        plural = "s" if self.replicas > 1 else ""
        slow = f", Retry-After {self.retry_after} s" if self.retry_after != RETRY_AFTER_S else ""
        return f"{self.replicas} replica{plural}{slow}, {self.backend}"


@dataclass(frozen=True)
class Delivery:
    """One run: how long until Slack showed every change, and what it took."""

    setup: Setup
    changes: int
    seconds: float  # until Slack showed every change (or the run gave up)
    shown: int  # changes Slack shows in full
    calls: int  # Web API calls Slack received, 429s included
    needed: int  # calls Slack had to accept: one per place
    limited: int
    repeated: int
    unplaced: int


def _shown(slack: LimitingSlack, changes: Changes) -> int:
    return sum(places <= slack.shown for places in changes.values())


async def _still_due(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).where(ShareRequest.slack_due_at.is_not(None))
        )
        return int(count or 0)


async def _settle(engine: AsyncEngine) -> None:
    """Wait until no row is marked due (SETTLE_S at most), then SETTLE_S more: a repeated
    call arriving late is counted too."""
    deadline = time.perf_counter() + SETTLE_S
    while time.perf_counter() < deadline:
        if not await _still_due(engine):
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(SETTLE_S)


async def _until_shown(slack: LimitingSlack, changes: Changes, label: str) -> float:
    """Seconds until Slack shows every change (GIVE_UP_S at most); progress printed."""
    start = time.perf_counter()
    report = start + PROGRESS_S
    while (shown := _shown(slack, changes)) < len(changes):
        now = time.perf_counter()
        if now - start >= GIVE_UP_S:
            break
        if now >= report:
            report += PROGRESS_S
            print(
                f"    {label}: {shown}/{len(changes)} changes shown after {now - start:.0f} s, "
                f"{slack.calls_made} calls, {slack.limited} rate-limited",
                flush=True,
            )
        await asyncio.sleep(0.02)
    return time.perf_counter() - start


async def deliver(setup: Setup) -> Delivery:
    """Seed a fresh database, start the replicas' syncs, wait until Slack shows it all."""
    label = setup.label
    slack = LimitingSlack(
        every=LIMIT_EVERY, retry_after=setup.retry_after, approvals_channel=CHANNEL
    )
    await slack.start()
    graph = graph_client(httpx.MockTransport(lambda _: httpx.Response(503)))  # never called
    try:
        async with scratch_engine(setup.backend) as seeded:
            changes = await seed(seeded, setup.changes)
            url = seeded.url.render_as_string(hide_password=False)
            engines = [create_engine(url) for _ in range(setup.replicas)]
            syncs = [
                SlackSync(make_context(e, graph), web_client(BOT_TOKEN, slack.base_url))
                for e in engines
            ]
            try:
                for sync in syncs:
                    sync.start()
                seconds = await _until_shown(slack, changes, label)
                await _settle(seeded)
            finally:
                for sync in syncs:
                    await sync.stop()
                await asyncio.gather(*(e.dispose() for e in engines))
    finally:
        await graph.aclose()
        await slack.stop()
    result = Delivery(
        setup,
        len(changes),
        seconds,
        _shown(slack, changes),
        slack.calls_made,
        sum(len(places) for places in changes.values()),
        slack.limited,
        len(slack.repeated),
        slack.unplaced,
    )
    print(
        f"  {label}: {result.shown}/{result.changes} changes shown after {seconds:.1f} s; "
        f"{result.calls} Web API calls ({result.needed} needed, {result.limited} answered 429); "
        f"{result.repeated} accepted calls repeated, {result.unplaced} unrecognised",
        flush=True,
    )
    return result


def figures(d: Delivery) -> list[Figure]:
    """The figures of one run."""
    on = f"({d.setup.label})"
    owed = d.limited * d.setup.retry_after
    return [
        at_least(BENCH, f"changes shown {on}", d.shown, "changes", d.changes),
        info(BENCH, f"time until all shown {on}", d.seconds, "s"),
        info(BENCH, f"  Retry-After of the 429s, summed {on}", owed, "s"),
        info(BENCH, f"Web API calls per change {on}", d.calls / d.changes, "calls"),
        info(BENCH, f"  needed per change {on}", d.needed / d.changes, "calls"),
        info(BENCH, f"  answered 429 {on}", d.limited, "calls"),
        at_most(BENCH, f"accepted calls repeated {on}", d.repeated + d.unplaced, "calls", 0),
    ]


def setups(backend: str, quick: bool) -> list[Setup]:
    """1,000 changes (100 with `quick`) with one replica, then two; then two replicas with
    the longer Retry-After over 100 changes."""
    count = 100 if quick else CHANGES
    return [
        Setup(backend, 1, count),
        Setup(backend, 2, count),
        Setup(backend, 2, LONG_RETRY_CHANGES, LONG_RETRY_AFTER_S),
    ]


async def run(quick: bool) -> list[Figure]:
    """Every setup on each backend."""
    result: list[Figure] = []
    for backend in await backends():
        for setup in setups(backend, quick):
            result += figures(await deliver(setup))
    return result
