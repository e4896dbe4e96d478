"""The upkeep pass: decisions made in Meta, removed agencies, reminders, local expiry."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import UTC, datetime, timedelta

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import update

from bot.flows.context import Context
from bot.flows.states import ShareStatus
from bot.sandbox.world import Agreement
from bot.slack.ids import Action
from bot.store.db import create_engine, session_factory
from bot.store.models import ShareRequest
from bot.upkeep import UpkeepOptions, UpkeepReport, upkeep_pass
from tests.e2e.conftest import (
    ACME,
    BRIGHT,
    CHECKOUT,
    NOVA,
    NOVA_ADMIN,
    NOVA_ADMIN2,
    NOVA_CHANNEL,
    OWNER,
    WEBSITE,
    Bot,
    blocks_of,
    buttons,
    texts,
)
from tests.fakes.slack import BOT_TOKEN

NO_REMINDERS = UpkeepOptions(remind_after=None)


def slack(bot: Bot) -> AsyncWebClient:
    return AsyncWebClient(token=BOT_TOKEN, base_url=bot.slack.base_url)


async def run(
    bot: Bot, options: UpkeepOptions = NO_REMINDERS, ctx: Context | None = None
) -> UpkeepReport:
    return await upkeep_pass(ctx or bot.services.flows, slack(bot), options)


async def pending(bot: Bot, pixel: str = WEBSITE) -> ShareRequest:
    await bot.command(f"share {pixel} {NOVA} ANALYZE")
    row = (await bot.requests())[-1]
    assert row.status == ShareStatus.PENDING
    return row


async def row_of(bot: Bot, request_id: int) -> ShareRequest:
    return next(r for r in await bot.requests() if r.id == request_id)


@pytest.mark.parametrize(
    ("at_meta", "status", "shown"),
    [
        ("APPROVE", ShareStatus.ACTIVE, "Approved in Meta Business Settings"),
        ("DECLINE", ShareStatus.DECLINED, "Declined in Meta Business Settings"),
        ("EXPIRED", ShareStatus.EXPIRED, "Expired"),
        ("CANCELED", ShareStatus.CANCELLED, "Cancelled in Meta"),
    ],
)
async def test_decisions_made_in_meta_are_reconciled(
    bot: Bot, at_meta: str, status: str, shown: str
) -> None:
    request = await pending(bot)
    assert request.pending_request_id
    bot.sandbox.world.decide(request.pending_request_id, at_meta)
    report = await run(bot)
    row = await row_of(bot, request.id)
    assert (row.status, row.decider_slack_id) == (status, None)
    assert [v.id for v in report.reconciled.settled] == [request.id]
    [update_call] = bot.slack.calls_to("chat.update")
    edited = blocks_of(update_call.params)
    assert buttons(edited) == {} and shown.lower() in texts(edited).lower()
    [dm] = bot.posts(OWNER)
    assert shown.lower() in texts(blocks_of(dm)).lower()
    assert any(p.get("thread_ts") == request.slack_ts for p in bot.posts(NOVA_CHANNEL))
    [event] = [e for e in await bot.audit() if e.action == "reconcile"]
    assert (event.actor, event.outcome, event.share_request_id) == ("reconciler", "ok", request.id)
    # A second pass finds nothing more to do.
    again = await run(bot)
    assert again.reconciled.settled == [] and len(bot.slack.calls_to("chat.update")) == 1
    assert set(bot.pool.held) == {0}  # no connection held while Meta answered


async def test_an_agency_removed_at_meta_marks_the_share_revoked(bot: Bot) -> None:
    await bot.command(f"share {CHECKOUT} {BRIGHT}")
    [share] = await bot.requests()
    assert share.status == ShareStatus.ACTIVE
    bot.sandbox.world.remove_partnership(ACME, BRIGHT)
    bot.sandbox.world.unshare(CHECKOUT, BRIGHT)
    report = await run(bot)
    assert [v.id for v in report.reconciled.revoked] == [share.id]
    assert (await row_of(bot, share.id)).status == ShareStatus.REVOKED
    [event] = [e for e in await bot.audit() if e.action == "reconcile"]
    assert "no longer on the pixel" in (event.detail or "")


async def test_an_unknown_status_is_logged_and_left_pending(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    request = await pending(bot)
    assert request.pending_request_id
    bot.sandbox.world.agreements[request.pending_request_id].status = "SOMETHING_NEW"
    with caplog.at_level(logging.WARNING):
        report = await run(bot)
    assert report.reconciled.unknown_statuses == 1
    assert (await row_of(bot, request.id)).status == ShareStatus.PENDING
    assert "SOMETHING_NEW" in caplog.text and bot.slack.calls_to("chat.update") == []


async def _many_pending(bot: Bot, count: int) -> list[str]:
    """`count` pending requests from Acme at Meta and in the database."""
    world, now = bot.sandbox.world, datetime.now(UTC)
    ids = []
    async with bot.services.sessions.begin() as session:
        for _ in range(count):
            agreement = Agreement(
                world.new_id(), ACME, NOVA, "PENDING", now, {WEBSITE: ["ANALYZE"]}
            )
            world.agreements[agreement.id] = agreement
            ids.append(agreement.id)
            session.add(
                ShareRequest(
                    pixel_id=WEBSITE,
                    owner_business_id=ACME,
                    agency_business_id=NOVA,
                    permitted_tasks=["ANALYZE"],
                    status="pending",
                    pending_request_id=agreement.id,
                    requester_slack_id=OWNER,
                )
            )
    return ids


def _batches(bot: Bot) -> list[object]:
    return [
        c
        for c in bot.sandbox.calls
        if c.method == "POST" and c.path in ("", "/") and not c.in_batch
    ]


def _reads(bot: Bot) -> list[str]:
    return [c.path.strip("/") for c in bot.sandbox.calls if c.in_batch and c.method == "GET"]


async def test_a_backlog_is_read_fifty_requests_per_graph_call(bot: Bot) -> None:
    ids = await _many_pending(bot, 120)
    for request_id in ids[:30]:
        bot.sandbox.world.decide(request_id, "APPROVE")
    report = await run(bot)
    assert len(_batches(bot)) == 3
    assert sorted(_reads(bot)) == sorted(ids)
    assert len(report.reconciled.settled) == 30


async def test_two_reconcilers_at_once_process_each_request_once(
    bot: Bot, database_url: str
) -> None:
    ids = await _many_pending(bot, 120)
    for request_id in ids:
        bot.sandbox.world.decide(request_id, "DECLINE")
    other_engine = create_engine(database_url)
    other = dataclasses.replace(bot.services.flows, sessions=session_factory(other_engine))
    try:
        first, second = await asyncio.gather(run(bot), run(bot, ctx=other))
    finally:
        await other_engine.dispose()
    settled = [v.id for v in first.reconciled.settled + second.reconciled.settled]
    assert len(settled) == len(set(settled)) == 120
    assert sorted(_reads(bot)) == sorted(ids)  # no request was asked about twice
    events = [e for e in await bot.audit() if e.action == "reconcile"]
    assert len(events) == 120


def _at(bot: Bot, hours: float) -> Context:
    moment = datetime.now(UTC) + timedelta(hours=hours)
    return dataclasses.replace(bot.services.flows, clock=lambda: moment)


def _reminders(bot: Bot, request: ShareRequest) -> list[str]:
    return [
        texts(blocks_of(p))
        for p in bot.posts(NOVA_CHANNEL)
        if p.get("thread_ts") == request.slack_ts and "Reminder" in texts(blocks_of(p))
    ]


async def test_reminders_go_out_with_growing_intervals_and_stop_after_a_decision(
    bot: Bot,
) -> None:
    request = await pending(bot)
    options = UpkeepOptions(remind_after=timedelta(hours=24))
    await run(bot, options, _at(bot, 23))
    assert _reminders(bot, request) == []
    await run(bot, options, _at(bot, 25))
    [first] = _reminders(bot, request)
    assert f"<@{NOVA_ADMIN}>" in first and f"<@{NOVA_ADMIN2}>" in first
    await run(bot, options, _at(bot, 26))
    await run(bot, options, _at(bot, 60))  # the second waits 48 h after the first
    assert len(_reminders(bot, request)) == 1
    await run(bot, options, _at(bot, 74))
    assert len(_reminders(bot, request)) == 2
    await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    await run(bot, options, _at(bot, 500))
    assert len(_reminders(bot, request)) == 2


async def test_local_expiry_cancels_at_meta_too(bot: Bot) -> None:
    request = await pending(bot)
    assert request.pending_request_id
    options = UpkeepOptions(remind_after=None, expire_after=timedelta(hours=72))
    await run(bot, options, _at(bot, 71))
    assert (await row_of(bot, request.id)).status == ShareStatus.PENDING
    report = await run(bot, options, _at(bot, 73))
    assert [v.id for v in report.expired] == [request.id]
    row = await row_of(bot, request.id)
    assert row.status == ShareStatus.CANCELLED and "72 hours" in (row.decision_reason or "")
    assert bot.sandbox.world.agreements[request.pending_request_id].status == "CANCELED"
    assert len(bot.graph_calls("DELETE", "/agencies")) == 1
    [update_call] = bot.slack.calls_to("chat.update")
    assert buttons(blocks_of(update_call.params)) == {}


async def _stale(bot: Bot, request_id: int, status: str, **fields: object) -> None:
    """Make a row look like a claim a crashed process left behind."""
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    async with bot.services.sessions.begin() as session:
        await session.execute(
            update(ShareRequest)
            .where(ShareRequest.id == request_id)
            .values(status=status, updated_at=long_ago, **fields)
        )


def _decisions(bot: Bot, request: ShareRequest) -> list[str]:
    return [
        c.params.get("request_status", "")
        for c in bot.graph_calls("POST", f"/{request.pending_request_id}")
    ]


async def test_recovery_reopens_a_click_that_never_reached_meta(bot: Bot) -> None:
    request = await pending(bot)
    await _stale(bot, request.id, "approving", decider_slack_id=NOVA_ADMIN)
    report = await run(bot)
    row = await row_of(bot, request.id)
    assert (row.status, row.decider_slack_id) == (ShareStatus.PENDING, None)
    assert [v.id for v in report.recovered.reopened] == [request.id]
    assert _decisions(bot, request) == []  # never repeated
    [dm] = bot.posts(NOVA_ADMIN)
    assert "interrupted" in texts(blocks_of(dm))


async def test_recovery_finishes_a_decision_meta_applied(bot: Bot) -> None:
    request = await pending(bot)
    assert request.pending_request_id
    bot.sandbox.world.decide(request.pending_request_id, "APPROVE")  # Meta answered, then a crash
    await _stale(bot, request.id, "approving", decider_slack_id=NOVA_ADMIN)
    await run(bot)
    row = await row_of(bot, request.id)
    assert (row.status, row.decider_slack_id) == (ShareStatus.ACTIVE, NOVA_ADMIN)
    assert _decisions(bot, request) == []
    [update_call] = bot.slack.calls_to("chat.update")
    assert f"Approved by <@{NOVA_ADMIN}>" in texts(blocks_of(update_call.params))
    assert set(bot.pool.held) == {0}


async def test_recovery_of_a_share_that_never_reached_meta(bot: Bot) -> None:
    await bot.command(f"share {CHECKOUT} {BRIGHT}")
    [row] = await bot.requests()
    bot.sandbox.world.unshare(CHECKOUT, BRIGHT)
    await _stale(bot, row.id, "submitting")
    await run(bot)
    row = await row_of(bot, row.id)
    assert row.status == ShareStatus.FAILED and "never reached Meta" in (
        row.graph_error_message or ""
    )


async def stale_submission(bot: Bot) -> None:
    """A share to Nova left submitting an hour ago by a process that died."""
    async with bot.services.sessions.begin() as session:
        session.add(
            ShareRequest(
                pixel_id=WEBSITE,
                owner_business_id=ACME,
                agency_business_id=NOVA,
                permitted_tasks=["ANALYZE"],
                status="submitting",
                requester_slack_id=OWNER,
                updated_at=datetime.now(UTC) - timedelta(hours=1),
            )
        )


async def test_recovery_of_a_share_meta_opened_posts_the_approval(bot: Bot) -> None:
    await stale_submission(bot)
    agreement = bot.sandbox.world.request_share(WEBSITE, NOVA, ["ANALYZE"], datetime.now(UTC))
    report = await run(bot)
    [row] = await bot.requests()
    assert (row.status, row.pending_request_id) == (ShareStatus.PENDING, agreement.id)
    assert [v.id for v in report.recovered.submitted] == [row.id]
    [post] = [p for p in bot.posts(NOVA_CHANNEL) if not p.get("thread_ts")]
    assert buttons(blocks_of(post)) == {Action.APPROVE: str(row.id), Action.DECLINE: str(row.id)}


async def test_recovery_of_an_unshare_that_did_not_happen(bot: Bot) -> None:
    await bot.command(f"share {CHECKOUT} {BRIGHT}")
    [row] = await bot.requests()
    await _stale(bot, row.id, "revoking", decider_slack_id=OWNER)
    await run(bot)
    assert (await row_of(bot, row.id)).status == ShareStatus.ACTIVE
    assert bot.graph_calls("DELETE", "/agencies") == []


async def test_when_meta_cannot_tell_the_request_is_flagged_and_people_told(bot: Bot) -> None:
    request = await pending(bot)
    await _stale(bot, request.id, "approving", decider_slack_id=NOVA_ADMIN)
    bot.sandbox.faults.deny(rf"^/{request.pending_request_id}$", method="GET")
    report = await run(bot)
    row = await row_of(bot, request.id)
    assert row.status == ShareStatus.APPROVING and row.attention
    assert [v.id for v in report.recovered.attention] == [request.id]
    assert any("interrupted" in texts(blocks_of(p)) for p in bot.posts(OWNER))
    assert _decisions(bot, request) == []
    await run(bot)  # flagged once: nobody is told twice
    assert len([p for p in bot.posts(OWNER) if "interrupted" in texts(blocks_of(p))]) == 1
