"""Acknowledged work is durable, and Slack is brought up to the database until it has it.

In-process: the real Bolt app behind the gate, a real database, fake Slack and the Graph
sandbox. Crashes are played by leaving the database as a killed process leaves it (a job
written and never started, a job claimed by a worker that is gone); tests/crash kills real
processes.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select, update

from bot.flows import jobs, reminding, sharing
from bot.flows.context import Context
from bot.flows.states import ShareStatus
from bot.slack.ids import Action
from bot.slack.sync import SlackSync
from bot.store.models import Job, ShareRequest, utcnow
from bot.upkeep import UpkeepOptions, upkeep_pass
from tests.e2e.conftest import (
    CHECKOUT,
    NOVA,
    NOVA_ADMIN,
    NOVA_CHANNEL,
    OUTLET,
    OWNER,
    WEBSITE,
    Bot,
    approval_posts,
    blocks_of,
    buttons,
    texts,
)
from tests.signing import command_body, new_trigger_id, signed_headers

SHARE = f"share {WEBSITE} {NOVA} ANALYZE"


async def _jobs(bot: Bot) -> list[Job]:
    async with bot.services.sessions() as session:
        return list((await session.scalars(select(Job).order_by(Job.id))).all())


async def _set_job(bot: Bot, job_id: int, **values: Any) -> None:
    async with bot.services.sessions.begin() as session:
        await session.execute(update(Job).where(Job.id == job_id).values(**values))


def _later(ctx: Context, minutes: float) -> Context:
    """The domain as it will be `minutes` from now (backoffs and reminders come due)."""
    return dataclasses.replace(ctx, clock=lambda: utcnow() + timedelta(minutes=minutes))


async def _catch_up(bot: Bot, minutes: float = 10, sweeps: int = 8) -> None:
    """What a replica's sync loop does over the next sweeps, each once the backoff has
    passed (a fresh process each time, so no per-method wait is remembered either)."""
    for sweep in range(1, sweeps + 1):
        later = _later(bot.services.flows, minutes * sweep)
        await SlackSync(later, bot.services.work.sync._client).run_due()


def _dms(bot: Bot, user: str) -> list[str]:
    return [texts(blocks_of(p)) for p in bot.posts(user)]


def _share_graph_writes(bot: Bot) -> int:
    return len(bot.graph_calls("POST", "/agencies"))


async def _orphan(bot: Bot, text: str, hook: str) -> int:
    """A job as a process leaves it that acked and died before starting the work."""
    job = await bot.services.work.accept(
        "command",
        "share",
        OWNER,
        {"text": text},
        trigger=new_trigger_id(),
        reply_url=bot.slack.response_url(hook),
    )
    assert job is not None
    return job


async def test_a_command_is_written_down_before_its_ack_and_marked_done_after(bot: Bot) -> None:
    reply = await bot.command(SHARE)
    [job] = await _jobs(bot)
    assert (job.surface, job.name, job.actor, job.payload) == (
        "command",
        "share",
        OWNER,
        {"text": SHARE},
    )
    assert job.status == "done" and job.told is True and job.attempts == 1
    assert job.reply_ciphertext is None  # a capability nobody needs once the job is done
    assert f"<#{NOVA_CHANNEL}>" in reply.text
    [row] = await bot.requests()
    assert row.changed_by_job == job.id and row.slack_due_at is None
    assert (row.card_status, row.requester_status) == ("pending", "pending")


async def test_the_response_url_is_sealed_at_rest_and_old_jobs_are_forgotten(bot: Bot) -> None:
    job_id = await _orphan(bot, SHARE, "sealed")
    [job] = await _jobs(bot)
    # The response_url is a bearer capability: sealed at rest, like tokens.
    assert job.reply_ciphertext is not None and b"webhook" not in job.reply_ciphertext
    assert "webhook" in bot.services.flows.box.open(job.reply_ciphertext).get_secret_value()
    await bot.command(SHARE.replace(WEBSITE, CHECKOUT))
    ctx = bot.services.flows
    assert await jobs.prune(ctx, timedelta(days=30)) == 0
    assert await jobs.prune(_later(ctx, 31 * 24 * 60), timedelta(days=30)) == 1
    assert [j.id for j in await _jobs(bot)] == [job_id]  # the unfinished one is kept


async def test_a_command_slack_sends_twice_is_done_once(bot: Bot) -> None:
    trigger = new_trigger_id()
    url = bot.slack.response_url("twice")
    for _ in range(2):
        body = command_body(SHARE, OWNER, url, trigger_id=trigger)
        answer = await bot.http.post("/slack/events", content=body, headers=signed_headers(body))
        assert answer.status_code == 200
    await bot.services.background.drain()
    assert len(await _jobs(bot)) == 1
    assert _share_graph_writes(bot) == 1
    assert len(approval_posts(bot)) == 1
    assert len(bot.slack.posted_to("twice")) == 1


async def test_a_job_its_process_never_started_is_resumed_by_another(bot: Bot) -> None:
    job_id = await _orphan(bot, SHARE, "orphan")
    # Just written: the process that acked may still start it, so the sweep leaves it.
    assert await bot.services.work.sweep_orphans() == 0
    await _set_job(bot, job_id, created_at=utcnow() - timedelta(minutes=1))
    assert await bot.services.work.sweep_orphans() == 1
    await bot.services.background.drain()
    [job] = await _jobs(bot)
    assert job.status == "done" and job.attempts == 1
    [row] = await bot.requests()
    assert row.status == ShareStatus.PENDING
    assert _share_graph_writes(bot) == 1 and len(approval_posts(bot)) == 1
    [told] = bot.slack.posted_to("orphan")
    assert f"<#{NOVA_CHANNEL}>" in texts(told)


async def test_a_job_resumed_after_it_changed_requests_is_not_done_twice(bot: Bot) -> None:
    ctx = bot.services.flows
    job_id = await _orphan(bot, SHARE, "resumed")
    # The first worker claimed it, shared at Meta, committed the answer, and died.
    assert await jobs.claim(ctx, job_id, "dead-worker", 60) is not None
    with jobs.acting(job_id):
        await sharing.share(ctx, OWNER, WEBSITE, NOVA, ["ANALYZE"])
    await _set_job(bot, job_id, lease_until=utcnow() - timedelta(seconds=1))
    assert await bot.services.work.sweep_orphans() == 1
    await bot.services.background.drain()
    assert _share_graph_writes(bot) == 1  # Meta was not asked again
    [row] = await bot.requests()
    assert row.status == ShareStatus.PENDING and row.slack_ts
    assert len(approval_posts(bot)) == 1  # the card the dead process never posted
    [told] = bot.slack.posted_to("resumed")
    assert "restarted" in texts(told) and f"#{row.id}" in texts(told)
    assert _dms(bot, OWNER) == []  # told once, by the resumed job's reply
    [job] = await _jobs(bot)
    assert (job.status, job.attempts, job.told) == ("done", 2, True)


async def test_a_job_that_never_finishes_is_given_up_and_its_user_told(bot: Bot) -> None:
    job_id = await _orphan(bot, SHARE, "doomed")
    expired = utcnow() - timedelta(seconds=1)
    await _set_job(bot, job_id, status="running", attempts=jobs.MAX_ATTEMPTS, lease_until=expired)
    assert await bot.services.work.sweep_orphans() == 1
    await bot.services.background.drain()
    [job] = await _jobs(bot)
    assert job.status == "given_up" and job.told is True
    assert _share_graph_writes(bot) == 0
    [told] = bot.slack.posted_to("doomed")
    assert "could not finish" in texts(told)


async def test_a_job_held_by_a_live_worker_is_not_taken(bot: Bot) -> None:
    ctx = bot.services.flows
    job_id = await _orphan(bot, SHARE, "held")
    assert await jobs.claim(ctx, job_id, "live-worker", 60) is not None
    await _set_job(bot, job_id, created_at=utcnow() - timedelta(minutes=5))
    assert await bot.services.work.sweep_orphans() == 0
    assert await jobs.claim(ctx, job_id, "another", 60) is None


async def test_a_decision_reaches_card_thread_and_requester_after_slack_recovers(
    bot: Bot,
) -> None:
    await bot.command(SHARE)
    [row] = await bot.requests()
    # Slack rate-limits chat.update past the client's own retries, and 500s the DM.
    bot.slack.outage("chat.update", 429, 429, 429, 429)
    bot.slack.outage("chat.postMessage", 500, 500, 500)
    await bot.click(Action.APPROVE, str(row.id), NOVA_ADMIN)
    [row] = await bot.requests()
    assert row.status == ShareStatus.ACTIVE
    assert row.slack_due_at is not None and row.card_status == "pending"
    await _catch_up(bot)
    [row] = await bot.requests()
    assert row.slack_due_at is None
    assert (row.card_status, row.thread_status, row.requester_status) == ("active",) * 3
    accepted_updates = bot.slack.calls_to("chat.update")[4:]
    [card] = accepted_updates
    assert buttons(blocks_of(card.params)) == {}  # the Approve button is gone
    [dm] = _dms(bot, OWNER)  # once, however many times Slack refused it
    assert "approved" in dm.lower() and f"<@{NOVA_ADMIN}>" in dm
    thread = [p for p in bot.posts(NOVA_CHANNEL) if p.get("thread_ts")]
    assert len(thread) == 4  # the three Slack refused with a 500, and the one it took
    await _catch_up(bot)  # nothing is due: nothing is sent again
    assert len(bot.slack.calls_to("chat.update")) == 5 and len(_dms(bot, OWNER)) == 1


async def test_a_card_slack_would_not_take_is_posted_later_and_the_requester_told_so(
    bot: Bot,
) -> None:
    bot.slack.outage("chat.postMessage", 429, 429, 429, 429)
    reply = await bot.command(SHARE)
    assert "keeps trying" in reply.text
    assert approval_posts(bot) == [] or all(
        c.params.get("channel") != NOVA_CHANNEL for c in bot.slack.calls_to("chat.postMessage")[4:]
    )
    [row] = await bot.requests()
    assert row.slack_ts is None and row.slack_due_at is not None
    await _catch_up(bot)
    [row] = await bot.requests()
    assert row.slack_ts and row.card_status == "pending"
    accepted = bot.slack.calls_to("chat.postMessage")[4:]
    assert [c.params["channel"] for c in accepted] == [NOVA_CHANNEL]


async def test_a_reminder_counts_as_sent_only_once_slack_took_it(bot: Bot) -> None:
    await bot.command(SHARE)
    later = _later(bot.services.flows, 25 * 60)
    assert await reminding.due_reminders(later, timedelta(hours=24)) == 1
    bot.slack.outage("chat.postMessage", 429, 429, 429, 429)
    await SlackSync(later, bot.services.work.sync._client).run_due()
    [row] = await bot.requests()
    assert (row.reminders_due, row.reminders_sent) == (1, 0)
    await _catch_up(bot, 26 * 60)
    [row] = await bot.requests()
    assert (row.reminders_due, row.reminders_sent) == (1, 1)
    reminders = [p for p in bot.posts(NOVA_CHANNEL) if "Reminder" in str(p.get("text"))]
    assert len(reminders) == 5  # four refused, one taken
    await _catch_up(bot, 26 * 60)
    assert len([p for p in bot.posts(NOVA_CHANNEL) if "Reminder" in str(p.get("text"))]) == 5


async def test_a_reply_past_the_response_urls_limits_arrives_by_dm(bot: Bot) -> None:
    bot.slack.expire_hooks()
    reply = await bot.command(SHARE)
    assert reply.posted == []
    [dm] = _dms(bot, OWNER)
    assert f"<#{NOVA_CHANNEL}>" in dm
    [job] = await _jobs(bot)
    assert job.told is True


async def test_a_response_url_is_used_at_most_five_times(bot: Bot) -> None:
    job_id = await _orphan(bot, SHARE, "worn")
    await _set_job(bot, job_id, reply_uses=5, created_at=utcnow() - timedelta(minutes=1))
    await bot.services.work.sweep_orphans()
    await bot.services.background.drain()
    assert bot.slack.posted_to("worn") == []
    [dm] = _dms(bot, OWNER)
    assert f"<#{NOVA_CHANNEL}>" in dm


async def test_a_later_click_on_a_settled_request_redraws_its_stale_card(bot: Bot) -> None:
    await bot.command(SHARE)
    [row] = await bot.requests()
    await bot.click(Action.APPROVE, str(row.id), NOVA_ADMIN)
    # The card still shows its buttons somewhere (an old client, a lost edit): a click.
    updates = len(bot.slack.calls_to("chat.update"))
    again = await bot.click(Action.APPROVE, str(row.id), NOVA_ADMIN)
    assert "already" in again.text
    assert len(bot.slack.calls_to("chat.update")) == updates + 1
    assert buttons(blocks_of(bot.slack.calls_to("chat.update")[-1].params)) == {}
    assert len(_dms(bot, OWNER)) == 1  # the requester is not told twice


async def test_upgraded_rows_are_not_announced_again(bot: Bot) -> None:
    await bot.command(SHARE)
    [row] = await bot.requests()
    await bot.click(Action.APPROVE, str(row.id), NOVA_ADMIN)
    calls = len(bot.slack.calls)
    async with bot.services.sessions.begin() as session:
        # Whatever a sweep finds due and already shown is cleared without a call.
        await session.execute(update(ShareRequest).values(slack_due_at=utcnow()))
    await _catch_up(bot)
    assert len(bot.slack.calls) == calls
    [row] = await bot.requests()
    assert row.slack_due_at is None


async def test_a_share_whose_answer_was_lost_reaches_the_requester_when_recovered(
    bot: Bot,
) -> None:
    # Meta applies the share, then answers a bare 500: nobody can tell it happened.
    bot.sandbox.faults.server_error(method="POST", path=r"/agencies$", takes_effect=True)
    reply = await bot.command(SHARE)
    assert "server error" in reply.text.lower() or "may" in reply.text.lower()
    [row] = await bot.requests()
    assert row.status == ShareStatus.SUBMITTING and _dms(bot, OWNER) == []
    later = _later(bot.services.flows, 10)
    await upkeep_pass(later, bot.services.work.sync._client, UpkeepOptions(claim_lease=300))
    [row] = await bot.requests()
    assert row.status == ShareStatus.PENDING and row.slack_ts
    assert len(approval_posts(bot)) == 1
    [dm] = _dms(bot, OWNER)  # the requester hears where it ended, once
    assert f"#{row.id}" in dm and "Nova" in dm
    await _catch_up(bot)
    assert len(_dms(bot, OWNER)) == 1


async def test_a_job_cut_short_by_shutdown_is_handed_over_at_once(bot: Bot) -> None:
    # Meta holds the share's answer when the shutdown deadline comes.
    bot.sandbox.faults.timeout(hold_ms=5_000, method="POST", path=r"/agencies$")
    body = command_body(SHARE, OWNER, bot.slack.response_url("cut"))
    answer = await bot.http.post("/slack/events", content=body, headers=signed_headers(body))
    assert answer.status_code == 200
    for _ in range(500):  # until the share is at Meta
        if _share_graph_writes(bot):
            break
        await asyncio.sleep(0.01)
    assert _share_graph_writes(bot) == 1
    assert await bot.services.background.drain(0.0) == 1
    [job] = await _jobs(bot)
    assert job.status == "running" and job.lease_until is not None
    assert job.lease_until <= utcnow()  # not held until its lease would have run out
    bot.sandbox.faults.clear()
    assert await bot.services.work.sweep_orphans() == 1
    await bot.services.background.drain()
    [job] = await _jobs(bot)
    assert (job.status, job.attempts) == ("done", 2)
    told = bot.slack.posted_to("cut")
    assert any("restarted" in texts(t) for t in told)


async def test_two_replicas_syncing_at_once_send_each_message_once(bot: Bot) -> None:
    bot.slack.outage("chat.postMessage", *[429] * 12)  # three shares' cards, refused
    for pixel in (WEBSITE, CHECKOUT, OUTLET):
        await bot.command(f"share {pixel} {NOVA} ANALYZE")
    assert all(r.slack_due_at is not None and r.slack_ts is None for r in await bot.requests())
    client = bot.services.work.sync._client
    for sweep in range(1, 16):  # each round: two replicas at once, after the backoff
        later = _later(bot.services.flows, 10 * sweep)
        await asyncio.gather(*(SlackSync(later, client).run_due() for _ in range(2)))
    rows = await bot.requests()
    assert all(r.slack_ts and r.slack_due_at is None for r in rows), [
        (r.status, r.slack_ts, r.slack_due_at, r.slack_lease_until, r.card_status) for r in rows
    ]
    accepted = [c.params for c in bot.slack.calls_to("chat.postMessage")[12:]]
    cards = [p for p in accepted if p["channel"] == NOVA_CHANNEL and not p.get("thread_ts")]
    assert sorted(buttons(blocks_of(c))[Action.APPROVE] for c in cards) == sorted(
        str(r.id) for r in rows
    )


async def test_jobs_acked_together_are_written_in_one_commit(bot: Bot) -> None:
    inserts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO JOBS"):
            inserts.append(statement)

    engine = bot.services.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        triggers = [new_trigger_id() for _ in range(50)]
        triggers.append(triggers[0])  # Slack delivered one of them twice
        ids = await asyncio.gather(
            *(
                bot.services.work.accept("command", "info", OWNER, {"text": "info 1"}, trigger=t)
                for t in triggers
            )
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(inserts) == 1  # fifty acks, one statement and one commit
    assert ids[-1] is None and None not in ids[:-1] and len(set(ids[:-1])) == 50
    assert len(await _jobs(bot)) == 50
    # A delivery Slack repeats later, alone, is recognised too.
    again = await bot.services.work.accept("command", "info", OWNER, {}, trigger=triggers[1])
    assert again is None


async def test_a_process_runs_at_most_its_workers_jobs_at_once(bot: Bot) -> None:
    bot.services.work.workers = 1
    # Meta holds the first share's answer: its job keeps the only worker meanwhile.
    bot.sandbox.faults.timeout(hold_ms=3_000, method="POST", path=r"/agencies$", times=1)
    first = await _orphan(bot, SHARE, "first")
    second = await _orphan(bot, SHARE.replace(WEBSITE, CHECKOUT), "second")
    for job_id in (first, second):
        await _set_job(bot, job_id, created_at=utcnow() - timedelta(minutes=1))
    assert await bot.services.work.sweep_orphans() == 2
    for _ in range(500):  # until the first share is at Meta
        if _share_graph_writes(bot):
            break
        await asyncio.sleep(0.01)
    statuses = {j.id: j.status for j in await _jobs(bot)}
    assert statuses == {first: "running", second: "queued"}  # waiting, and not claimed
    # A busy process leaves orphans to other replicas, and never starts its own twice.
    assert await bot.services.work.sweep_orphans() == 0
    await bot.services.background.drain()
    assert [(j.status, j.attempts) for j in await _jobs(bot)] == [("done", 1), ("done", 1)]
