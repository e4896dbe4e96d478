"""Inferences of docs/meta.md, under each reading the sandbox plays.

Inference 1: who may read a sharing request. Meta does not say whether
the business that sent it may; the sandbox plays both readings (`requester_cannot_read`),
and reconcile and recovery reach the same end under each: the other side's token reads it,
and when neither can, the agency listed on the pixel with the tasks asked is the signal.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from bot.flows.states import ShareStatus
from bot.slack.ids import Action
from tests.e2e.conftest import NOVA, NOVA_ADMIN, OWNER, WEBSITE, Bot, blocks_of, texts
from tests.e2e.test_upkeep import _stale, pending, row_of, run, stale_submission

READINGS = ("documented", "requester_cannot_read")


def _play(bot: Bot, reading: str) -> None:
    variants = frozenset() if reading == "documented" else frozenset({reading})
    world = bot.sandbox.world
    world.settings = dataclasses.replace(world.settings, variants=variants)


def _request_reads(bot: Bot, request_id: str) -> list[str | None]:
    """Who read the request at Meta (the business whose token each GET carried)."""
    gets = [c for c in bot.sandbox.calls if c.method == "GET" and c.path == f"/{request_id}"]
    batched = [c for c in bot.sandbox.calls if c.in_batch and c.path == f"/{request_id}"]
    return [c.business_id for c in gets + batched if c.status == 200]


@pytest.mark.parametrize("reading", READINGS)
@pytest.mark.parametrize(
    ("at_meta", "status"), [("APPROVE", ShareStatus.ACTIVE), ("DECLINE", ShareStatus.DECLINED)]
)
async def test_a_decision_made_in_meta_is_reconciled_under_each_reading(
    bot: Bot, reading: str, at_meta: str, status: ShareStatus
) -> None:
    request = await pending(bot)
    assert request.pending_request_id
    _play(bot, reading)
    bot.sandbox.world.decide(request.pending_request_id, at_meta)
    report = await run(bot)
    assert (await row_of(bot, request.id)).status == status
    assert [v.id for v in report.reconciled.settled] == [request.id]
    assert report.reconciled.unreadable == 0
    [dm] = bot.posts(OWNER)  # the requester told, once
    assert f"#{request.id}" in texts(blocks_of(dm))


@pytest.mark.parametrize("reading", READINGS)
async def test_recovery_reads_an_interrupted_decision_under_each_reading(
    bot: Bot, reading: str
) -> None:
    request = await pending(bot)
    assert request.pending_request_id
    _play(bot, reading)
    bot.sandbox.world.decide(request.pending_request_id, "APPROVE")  # applied, then a crash
    await _stale(bot, request.id, "approving", decider_slack_id=NOVA_ADMIN)
    report = await run(bot)
    row = await row_of(bot, request.id)
    assert (row.status, row.decider_slack_id) == (ShareStatus.ACTIVE, NOVA_ADMIN)
    assert report.recovered.attention == []


async def test_when_neither_side_can_read_the_agency_on_the_pixel_says_approved(
    bot: Bot,
) -> None:
    request = await pending(bot)
    assert request.pending_request_id
    _play(bot, "requester_cannot_read")
    bot.sandbox.world.expire_tokens(NOVA)  # the agency's token no longer reads anything
    bot.sandbox.world.decide(request.pending_request_id, "APPROVE")
    report = await run(bot)
    assert (await row_of(bot, request.id)).status == ShareStatus.ACTIVE
    assert [v.id for v in report.reconciled.settled] == [request.id]
    [event] = [e for e in await bot.audit() if e.action == "reconcile"]
    assert "Meta lists the agency on the pixel with the tasks asked" in (event.detail or "")


async def test_when_neither_side_can_read_a_decline_leaves_it_pending_and_counted(
    bot: Bot,
) -> None:
    request = await pending(bot, WEBSITE)
    assert request.pending_request_id
    _play(bot, "requester_cannot_read")
    bot.sandbox.world.expire_tokens(NOVA)
    bot.sandbox.world.decide(request.pending_request_id, "DECLINE")
    report = await run(bot)
    assert (await row_of(bot, request.id)).status == ShareStatus.PENDING  # never guessed
    assert report.reconciled.unreadable == 1


# Inference 6: a request Meta has not settled may read IN_PROGRESS or PENDING_* as well as
# PENDING; crash recovery counts every one of them as open.


@pytest.mark.parametrize("at_meta", ["PENDING", "IN_PROGRESS", "PENDING_INTEGRITY_REVIEW"])
async def test_recovery_finds_a_share_meta_opened_whatever_open_status_it_shows(
    bot: Bot, at_meta: str
) -> None:
    await stale_submission(bot)
    agreement = bot.sandbox.world.request_share(WEBSITE, NOVA, ["ANALYZE"], datetime.now(UTC))
    agreement.status = at_meta
    report = await run(bot)
    [row] = await bot.requests()
    assert (row.status, row.pending_request_id) == (ShareStatus.PENDING, agreement.id)
    assert [v.id for v in report.recovered.submitted] == [row.id]


# Inference 3: does DELETE /{pixel}/agencies withdraw a pending request? Under either
# reading the owner learns what Meta shows, and a request Meta kept open stays watched.


@pytest.mark.parametrize("reading", ["documented", "delete_keeps_request_open"])
async def test_cancelling_a_pending_request_ends_as_meta_shows_it(bot: Bot, reading: str) -> None:
    request = await pending(bot)
    assert request.pending_request_id
    _play(bot, reading)
    await bot.command(f"unshare {WEBSITE} {NOVA}")
    done = await bot.click(Action.UNSHARE_CONFIRM, f"{WEBSITE}:{NOVA}", OWNER)
    row = await row_of(bot, request.id)
    at_meta = bot.sandbox.world.agreements[request.pending_request_id].status
    if reading == "documented":
        assert (row.status, at_meta) == (ShareStatus.CANCELLED, "CANCELED")
        assert f"Cancelled pending request #{request.id}" in done.text
        return
    assert (row.status, at_meta) == (ShareStatus.PENDING, "PENDING")  # watched, not lost
    assert "still shows the request pending" in done.text
    assert "Cancel it in Meta Business Settings" in done.text
    # The agency accepts it after all: reconcile sees it, and the owner hears of it.
    bot.sandbox.world.decide(request.pending_request_id, "APPROVE")
    await run(bot)
    assert (await row_of(bot, request.id)).status == ShareStatus.ACTIVE
    assert any(
        "Approved in Meta Business Settings" in texts(blocks_of(p)) for p in bot.posts(OWNER)
    )
