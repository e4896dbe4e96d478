"""Two faults of the Slack sync the kill matrix ran into without any crash, each pinned down
here with the steps made deterministic.

1. A card posted twice. A process's sync loop and the inline delivery of a job
   (`post_card_now`, or `deliver` when a job ends) lease due rows under one lease owner,
   the process's `SlackSync._worker`. `announcing.lease_due` reads the due rows, leases those
   still free, then reads back the rows whose owner is that worker: when both look at the
   same moment, the second one's lease matches nothing, but its read-back finds the first
   one's lease under the same name, so both bring the row to Slack. The test holds
   PostgreSQL's lock on share_requests until both leases wait for it, so that they look at
   the same moment every time (the matrix saw it on SQLite too, under load).

2. A requester never told. While a job runs, the sync holds back the requester's DM for the
   rows it changed (the job tells its own user). When the job ends, `jobs.finish` marks those
   rows due again, but without a new `version`, and as `coalesce(slack_due_at, now)`: if the
   sync leased the row before the job ended, its `synced` (version unchanged) clears that
   mark, and nothing is due any more. The test takes those steps in that order.
"""

from __future__ import annotations

import asyncio
import functools

import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.flows import announcing, jobs
from bot.flows.context import Context
from bot.flows.registry import Registry
from bot.flows.states import ShareStatus
from bot.slack.sync import SlackSync
from bot.slack.web_client import web_client
from bot.store.db import session_factory
from bot.store.models import ShareRequest
from bot.store.repositories import ShareRequests
from bot.tokens import TokenBox
from tests.conftest import SECRET_KEY
from tests.crash.cast import ORION, ORION_ADMIN, ORION_CHANNEL
from tests.crash.database import WriteLock
from tests.crash.harness import until
from tests.e2e.conftest import ACME, CHECKOUT, OWNER
from tests.fakes.slack import BOT_TOKEN, FakeSlack

PG_ONLY = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgresql)], indirect=True
)


def _context(engine: AsyncEngine) -> Context:
    box = TokenBox(SecretStr(SECRET_KEY))
    return Context(session_factory(engine), None, box)  # type: ignore[arg-type]  # no Meta


async def _pending_request(ctx: Context) -> int:
    """A request Meta opened, due for its approval card (as `sharing` leaves it)."""
    registry = Registry(ctx.sessions, ctx.box)
    await registry.add_business(ORION, "Orion Studio", ORION_CHANNEL, SecretStr("EAAOrion0001x"))
    async with ctx.sessions.begin() as session:
        requests = ShareRequests(session)
        row = await requests.add(
            ShareRequest(
                pixel_id=CHECKOUT,
                owner_business_id=ACME,
                agency_business_id=ORION,
                permitted_tasks=["ANALYZE"],
                status=ShareStatus.SUBMITTING.value,
                requester_slack_id=OWNER,
            )
        )
        moved = await requests.move(
            row.id, "submitting", "pending", pending_request_id="2000000000000001"
        )
        assert moved
        return row.id


async def _leasing(lock: WriteLock, count: int) -> bool:
    waiting = await lock.waiting()
    return sum("slack_lease_owner" in q for q in waiting) >= count


def _posts(fake: FakeSlack, channel: str) -> list[object]:
    return [
        c
        for c in fake.calls_to("chat.postMessage")
        if c.params.get("channel") == channel and not c.params.get("thread_ts")
    ]


@PG_ONLY
async def test_the_sync_loop_and_a_jobs_delivery_post_a_card_once(
    database_url: str, engine: AsyncEngine, fake_slack: FakeSlack
) -> None:
    ctx = _context(engine)
    request_id = await _pending_request(ctx)
    sync = SlackSync(ctx, web_client(BOT_TOKEN, fake_slack.base_url))
    lock = WriteLock(database_url)
    await lock.take("share_requests")
    try:
        # The job posting its card at once, while the loop's sweep finds the row due.
        both = asyncio.gather(sync.deliver([request_id]), sync.run_due())
        await until(functools.partial(_leasing, lock, 2), 10, "both leases to wait")
    finally:
        await lock.release()
    await both
    cards = _posts(fake_slack, ORION_CHANNEL)
    assert len(cards) == 1, f"the approval card was posted {len(cards)} times"


async def test_a_job_ending_while_the_sync_holds_its_row_still_gets_the_requester_told(
    engine: AsyncEngine, fake_slack: FakeSlack
) -> None:
    ctx = _context(engine)
    request_id = await _pending_request(ctx)
    client = web_client(BOT_TOKEN, fake_slack.base_url)
    await SlackSync(ctx, client).run_due()  # the card posted, the requester told "pending"
    job_id = await jobs.enqueue(ctx, jobs.NewJob("action:t1", "action", "approve", ORION_ADMIN, {}))
    assert job_id is not None
    job = await jobs.claim(ctx, job_id, "replica-a", 60)
    assert job is not None
    with jobs.acting(job.id):  # the approval, as `deciding` records it
        async with ctx.sessions.begin() as session:
            assert await ShareRequests(session).move(request_id, "pending", "active")
    # Another replica's sweep leases the row while the job still runs: no DM yet, rightly.
    [due] = await announcing.lease_due(ctx, "replica-b", 60)
    assert due.tell_requester is False
    await jobs.finish(ctx, job, "replica-a", told=False)  # the approver was not the requester
    await announcing.synced(ctx, due)  # replica B is done with what it leased
    await SlackSync(ctx, client).run_due()  # every later sweep
    dms = _posts(fake_slack, OWNER)
    assert len(dms) == 2, f"the requester heard {len(dms)} times (pending, then approved?)"
