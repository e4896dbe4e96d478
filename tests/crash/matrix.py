"""Run one kill point on one backend for several flows at once, and record what each flow
came to: prepare the flows on a first bot, kill it at the point, start a recovering bot on
the same database, wait until nothing is left to do, then look at the database, Meta (the
sandbox) and Slack (the fake).

When the kill leaves a claim in flight, two things resume the work: the orphan sweep (the
job's lease ran out) and crash recovery (the claim's lease ran out). Which comes first is a
race, so each such case is run in both orders, each one forced:

- job-first: recovery's first read of the claim is held at the proxy until the job ended
  (what the default leases give: 60 s for a job, 300 s for a claim);
- claim-first: `pixelbot reconcile` finishes the claims before any bot runs again (what a
  restart after an outage longer than the claim lease gives).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.flows.states import IN_FLIGHT
from tests.crash.cast import BRIGHT_ACCOUNT
from tests.crash.checks import Seen, problems
from tests.crash.database import Databases
from tests.crash.flows import FLOWS, Flow, Trigger, settled
from tests.crash.graph_proxy import Hold
from tests.crash.harness import World, open_world, until
from tests.crash.kills import POINTS, writes
from tests.crash.slack import Delivered
from tests.e2e.conftest import BRIGHT

SETTLE_SECONDS = 120.0  # a Slack lease a dead process held runs 60 s
GRACE_SECONDS = 1.5  # after settling: time for anything late to show up (nothing should)
CLAIM_LEASE = 2.0  # the recovering bots' PIXELBOT_CLAIM_LEASE_SECONDS
CLAIMS_IN_FLIGHT = ("after-ack", "meta-holds", "meta-answered")  # points with two orders
ORDERS = ("job-first", "claim-first")
# After the kill, the database and Meta are as after meta-holds (a claim in flight, the write
# applied, its answer unrecorded): recovery cannot tell the two apart, so the claim-first
# order is run for meta-holds only.
SAME_AS_META_HOLDS = ("meta-answered", "claim-first")


@dataclass(frozen=True)
class Case:
    """One cell of the matrix on one backend (`order`: see the module docstring)."""

    flow: str
    point: str
    order: str
    backend: str

    @property
    def id(self) -> str:
        return "-".join(p for p in (self.flow, self.point, self.order, self.backend) if p)


@dataclass
class Outcome:
    """What one flow came to; `error` when its world did not come to an end or a step failed."""

    case: Case
    final: str = "?"  # the request's state (link: whether Meta links the account)
    at_meta: str = "?"  # the same, as Meta shows it
    meta_writes: int = -1
    jobs: list[tuple[str, bool | None, int]] = field(default_factory=list)  # status, told, claims
    seen: list[Seen] = field(default_factory=list)  # what the flow's people saw, in order
    held_back: bool = False  # see `checks.problems`
    seconds: float = 0.0
    error: BaseException | None = None
    logs: str = ""

    def problems(self) -> list[str]:
        """What is wrong with how the flow ended (see `checks`)."""
        jobs = [(status, told) for status, told, _ in self.jobs]
        return problems(
            self.case.flow,
            self.case.point,
            self.final,
            self.at_meta,
            self.meta_writes,
            jobs,
            self.seen,
            self.held_back,
        )


def meta_state(flow: Flow, snapshot: dict[str, Any]) -> str:
    """Meta's side of a flow, in the words of our rows."""
    pixel = next(p for p in snapshot["pixels"] if p["id"] == flow.pixel)
    if flow.agency is None:
        linked = [BRIGHT, BRIGHT_ACCOUNT] in pixel["linked_accounts"]
        return "linked" if linked else "not linked"
    if flow.agency in pixel["agencies"]:
        return "active"
    asked = [
        r
        for r in snapshot["requests"]
        if flow.pixel in r["assets"] and r["receiving_business_id"] == flow.agency
    ]
    if asked:
        return str(asked[-1]["request_status"]).lower()
    return "revoked" if flow.name == "unshare" else "nothing"


def _seen_by(flow: Flow, d: Delivered) -> Seen | None:
    """A post the flow's actor or requester saw (or its card showed); None if not theirs."""
    text = str(d.params.get("text") or "")
    if d.kind == "webhook":
        return Seen("actor", "reply", text) if d.name == flow.name else None
    channel = d.params.get("channel")
    if channel in (flow.actor, flow.requester) and d.name == "chat.postMessage":
        return Seen("actor" if channel == flow.actor else "requester", "DM", text)
    if flow.channel is not None and channel == flow.channel:
        where = "card edited" if d.name == "chat.update" else "card posted"
        return Seen("card", "thread" if d.params.get("thread_ts") else where, text)
    return None


async def observe(
    world: World, case: Case, trigger: Trigger, seen: int, known_jobs: int
) -> Outcome:
    """The end state of one flow in the database, at Meta and in Slack (posts after `seen`)."""
    flow, outcome = FLOWS[case.flow], Outcome(case)
    rows = [
        r
        for r in await world.rows()
        if r.pixel_id == flow.pixel and r.agency_business_id == flow.agency
    ]
    outcome.at_meta = meta_state(flow, await world.control("GET", "/_sandbox/world"))
    outcome.final = outcome.at_meta if flow.agency is None else (rows[-1].status if rows else "-")
    outcome.meta_writes = len(writes(await world.calls(), trigger))
    jobs = [j for j in await world.jobs() if j.id > known_jobs and j.actor == flow.actor]
    outcome.jobs = [(j.status, j.told, j.attempts) for j in jobs]
    if rows:
        last = rows[-1]
        outcome.held_back = (
            last.requester_status != last.status
            and last.slack_due_at is None
            and last.changed_by_job in {j.id for j in jobs}
        )
    later = world.slack.delivered[seen:]
    outcome.seen = [s for d in later if (s := _seen_by(flow, d)) is not None]
    return outcome


async def run_world(
    point: str, order: str, backend: str, flows: Sequence[str], databases: Databases, folder: Path
) -> dict[str, Outcome]:
    """One world, one kill: every flow's outcome (each carries the world's error, if any)."""
    started = time.monotonic()
    outcomes = {name: Outcome(Case(name, point, order, backend)) for name in flows}
    world: World | None = None
    try:
        url = await databases.new(backend)
        name = "-".join(p for p in (point, order, backend) if p)
        async with open_world(url, folder / name) as world:
            first, _ = await asyncio.gather(world.start_bot(first=True), world.sandbox_up())
            for setup in (FLOWS[f].setup for f in flows):
                if setup is not None:  # one after the other: see test_sync_lease.py, fault 1
                    await setup(world, first)
            await until(lambda: settled(world), 60, "the setup to settle", every=0.25)
            triggers = [await FLOWS[flow].trigger(world) for flow in flows]
            seen = len(world.slack.delivered)
            known_jobs = max((j.id for j in await world.jobs()), default=0)
            await POINTS[point](world, first, triggers)
            await world.control("DELETE", "/_sandbox/faults")
            world.slack.drop_all()
            if order == "claim-first":
                await _claims_first(world)
            held = hold_recovery(world, triggers) if order == "job-first" else []
            second = await world.start_bot(first=False)
            async with releasing(world, held, known_jobs):
                await until(
                    lambda: settled(world), SETTLE_SECONDS, "nothing left to do", every=0.25
                )
            await asyncio.sleep(GRACE_SECONDS)
            for trigger in triggers:
                case = outcomes[trigger.flow].case
                outcomes[trigger.flow] = await observe(world, case, trigger, seen, known_jobs)
            await second.stop()
    except Exception as error:  # kept for the tests that report these flows
        for outcome in outcomes.values():
            outcome.error = error
    logs = world.logs() if world is not None else ""
    for outcome in outcomes.values():
        outcome.seconds = time.monotonic() - started
        outcome.logs = logs
    return outcomes


async def _claims_first(world: World) -> None:
    """Once every claim is older than the claim lease, one `pixelbot reconcile` pass."""

    async def stale() -> bool:
        now = datetime.now(UTC)
        return all(
            (now - r.updated_at).total_seconds() > CLAIM_LEASE + 0.5
            for r in await world.rows()
            if r.status in IN_FLIGHT
        )

    await until(stale, 10, "the claims to outlive their lease", every=0.25)
    report = await world.reconcile()
    in_flight = [(r.id, r.status) for r in await world.rows() if r.status in IN_FLIGHT]
    assert not in_flight, f"`pixelbot reconcile` left {in_flight} in flight:\n{report}"


def hold_recovery(world: World, triggers: Sequence[Trigger]) -> list[tuple[Hold, Flow]]:
    """Hold recovery's first read of each flow's claim (and any other such read)."""
    return [
        (
            world.proxy.hold(rf"^GET /v[0-9.]+{t.recovery_read}[? ]", answer=True, every=True),
            FLOWS[t.flow],
        )
        for t in triggers
        if t.recovery_read is not None
    ]


@contextlib.asynccontextmanager
async def releasing(
    world: World, held: Sequence[tuple[Hold, Flow]], known_jobs: int
) -> AsyncIterator[None]:
    """Inside: each held recovery read goes on once its flow's job has ended."""

    async def release(hold: Hold, flow: Flow) -> None:
        async def ended() -> bool:
            jobs = [j for j in await world.jobs() if j.id > known_jobs and j.actor == flow.actor]
            return all(j.status in ("done", "given_up") for j in jobs)

        try:
            await until(ended, SETTLE_SECONDS, f"the {flow.name} job to end", every=0.25)
        finally:
            hold.release()

    tasks = [asyncio.create_task(release(hold, flow)) for hold, flow in held]
    try:
        yield
        await asyncio.gather(*tasks)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
