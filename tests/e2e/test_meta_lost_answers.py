"""Meta applies a write and its answer is lost: the clicker it applied is named, and every
error is described as what it was (a server error is not a timeout).

The sandbox plays Meta (`server_error` answers a bare HTTP 500 after applying the call,
`timeout` holds the answer after applying it); `_Wire` plays what a socket adds between
pixelbot and Meta in-process: the client's read timeout firing, a refused connection.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows.states import ShareStatus
from bot.graph.session import DEFAULT_TIMEOUT
from bot.sandbox import Sandbox
from bot.slack.ids import Action, Callback, Field
from bot.store.models import AuditEvent, ShareRequest
from bot.upkeep import UpkeepOptions, UpkeepReport, upkeep_pass
from tests.e2e.conftest import (
    BRIGHT,
    CHECKOUT,
    NOVA,
    NOVA_ADMIN,
    NOVA_ADMIN2,
    OWNER,
    OWNER2,
    WEBSITE,
    Bot,
    approval_posts,
    blocks_of,
    buttons,
    texts,
)
from tests.fakes.slack import BOT_TOKEN

READ_SECONDS = DEFAULT_TIMEOUT.read  # what the client waits for; the wire fires it at once


class _Wire:
    """Between pixelbot's Graph client and the sandbox: a read timeout that fires (time is
    compressed: the sandbox's hold counts as the client's whole wait), or a refused connection.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.read_timeout: float | None = None
        self.refuse = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.refuse:
            raise httpx.ConnectError("[Errno 111] Connection refused")
        if self.read_timeout is None:
            await self.sandbox(scope, receive, send)
            return
        try:
            await asyncio.wait_for(self.sandbox(scope, receive, send), self.read_timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("The read operation timed out") from None


@pytest.fixture
def wire(bot: Bot) -> _Wire:
    wired = _Wire(bot.sandbox)
    bot.pool.sandbox = wired  # type: ignore[assignment]  # the pool watch forwards to it
    return wired


async def _pending(bot: Bot) -> ShareRequest:
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    row = (await bot.requests())[-1]
    assert row.status == ShareStatus.PENDING and row.pending_request_id
    return row


async def _row(bot: Bot, request_id: int) -> ShareRequest:
    return next(r for r in await bot.requests() if r.id == request_id)


def _decisions(bot: Bot, request: ShareRequest) -> list[str]:
    """request_status values sent to Meta for this request."""
    return [
        c.params.get("request_status", "")
        for c in bot.graph_calls("POST", f"/{request.pending_request_id}")
    ]


async def _events(bot: Bot, action: str) -> list[AuditEvent]:
    return [e for e in await bot.audit() if e.action == action]


def _card(bot: Bot) -> str:
    """What the approval message shows now (its latest edit)."""
    return texts(blocks_of(bot.slack.calls_to("chat.update")[-1].params))


def _told(bot: Bot, user: str) -> str:
    return "\n".join(texts(blocks_of(p)) for p in bot.posts(user))


async def _decline(bot: Bot, request: ShareRequest, reason: str) -> None:
    await bot.click(Action.DECLINE, str(request.id), NOVA_ADMIN)
    values = {Field.REASON: {Field.VALUE: {"type": "plain_text_input", "value": reason}}}
    await bot.submit(Callback.DECLINE, values, NOVA_ADMIN, str(request.id))


async def _upkeep(bot: Bot) -> UpkeepReport:
    """One upkeep pass that treats every claim as interrupted (a lease of 0 s)."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=bot.slack.base_url)
    options = UpkeepOptions(claim_lease=0.0, remind_after=None)
    return await upkeep_pass(bot.services.flows, client, options)


# (a) Meta applied the click and lost its answer: the clicker decided it.


async def test_an_approve_meta_applied_before_a_bare_500_names_the_clicker(bot: Bot) -> None:
    request = await _pending(bot)
    bot.sandbox.faults.server_error(method="POST", path=rf"^/{request.pending_request_id}$")
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert _decisions(bot, request) == ["APPROVE"]  # asked once, never repeated
    row = await _row(bot, request.id)
    assert (row.status, row.decider_slack_id) == (ShareStatus.ACTIVE, NOVA_ADMIN)
    assert click.posted == []  # a plain success: the edited message says it all
    card = _card(bot)
    assert f"Approved by <@{NOVA_ADMIN}>" in card and "Business Settings" not in card
    assert buttons(blocks_of(bot.slack.calls_to("chat.update")[-1].params)) == {}
    dm = _told(bot, OWNER)
    assert f"Approved by <@{NOVA_ADMIN}>" in dm and "Business Settings" not in dm
    [event] = await _events(bot, "approve")
    assert (event.actor, event.outcome) == (NOVA_ADMIN, "ok")
    assert "Meta applied it, though its answer was lost" in (event.detail or "")
    assert "HTTP 500" in (event.detail or "")


async def test_a_decline_meta_applied_before_a_bare_500_keeps_decider_and_reason(
    bot: Bot,
) -> None:
    request = await _pending(bot)
    bot.sandbox.faults.server_error(method="POST", path=rf"^/{request.pending_request_id}$")
    await _decline(bot, request, "Not our client")
    assert _decisions(bot, request) == ["DECLINE"]
    row = await _row(bot, request.id)
    assert (row.status, row.decider_slack_id, row.decision_reason) == (
        ShareStatus.DECLINED,
        NOVA_ADMIN,
        "Not our client",
    )
    card = _card(bot)
    assert f"Declined by <@{NOVA_ADMIN}>" in card and "Reason: Not our client" in card
    assert "Business Settings" not in card
    assert f"Declined by <@{NOVA_ADMIN}>" in _told(bot, OWNER)
    # Told nothing else: no error was sent to the clicker (by DM, as modals have no URL).
    assert _told(bot, NOVA_ADMIN) == ""
    [event] = await _events(bot, "decline")
    assert event.outcome == "ok" and "its answer was lost" in (event.detail or "")


async def test_an_approve_meta_applied_before_the_client_timed_out_names_the_clicker(
    bot: Bot, wire: _Wire
) -> None:
    request = await _pending(bot)
    wire.read_timeout = 0.2
    bot.sandbox.faults.timeout(
        hold_ms=60_000, method="POST", path=rf"^/{request.pending_request_id}$"
    )
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert _decisions(bot, request) == ["APPROVE"]
    row = await _row(bot, request.id)
    assert (row.status, row.decider_slack_id) == (ShareStatus.ACTIVE, NOVA_ADMIN)
    assert click.posted == []
    assert f"Approved by <@{NOVA_ADMIN}>" in _card(bot)
    assert f"Approved by <@{NOVA_ADMIN}>" in _told(bot, OWNER)
    [event] = await _events(bot, "approve")
    assert event.outcome == "ok"
    assert f"no answer within {READ_SECONDS:g} s" in (event.detail or "")


# Decided elsewhere stays decided elsewhere.


async def test_a_refused_approve_of_a_request_approved_in_business_settings_is_elsewhere(
    bot: Bot,
) -> None:
    request = await _pending(bot)
    assert request.pending_request_id
    bot.sandbox.world.decide(request.pending_request_id, "APPROVE")  # behind pixelbot's back
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    row = await _row(bot, request.id)
    # Meta refused with #100 "already approved": this click did nothing, whatever Meta shows.
    assert (row.status, row.decider_slack_id) == (ShareStatus.ACTIVE, None)
    assert "already approved in Meta Business Settings" in click.text
    assert "Approved in Meta Business Settings" in _card(bot)
    [event] = await _events(bot, "approve")
    assert (event.outcome, event.graph_code) == ("failed", 100)


async def test_a_lost_answer_with_another_outcome_at_meta_is_elsewhere(bot: Bot) -> None:
    request = await _pending(bot)
    assert request.pending_request_id
    bot.sandbox.world.decide(request.pending_request_id, "DECLINE")
    # The approve never took effect; Meta's bare 500 says nothing, and Meta shows a decline.
    bot.sandbox.faults.server_error(
        method="POST", path=rf"^/{request.pending_request_id}$", takes_effect=False
    )
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    row = await _row(bot, request.id)
    assert (row.status, row.decider_slack_id) == (ShareStatus.DECLINED, None)
    assert "already declined in Meta Business Settings" in click.text
    assert "Declined in Meta Business Settings" in _card(bot)


# (b) Each error is described as what it was.


async def test_a_share_answered_with_a_bare_500_says_server_error_and_what_comes_next(
    bot: Bot,
) -> None:
    bot.sandbox.faults.server_error(method="POST", path=r"/agencies$")
    answer = await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    [row] = await bot.requests()
    text = answer.text
    assert (
        "Meta answered with a server error (HTTP 500) and did not say whether it applied "
        "the change, so the share may or may not have happened." in text
    )
    assert "did not answer" not in text and "in time" not in text
    assert "trying again is safe" not in text  # it is not: see below
    assert f"Request #{row.id} is kept, and pixelbot will check it with Meta" in text
    assert row.status == ShareStatus.SUBMITTING  # kept for recovery, never sent twice
    # What the message promised: a new share is refused meanwhile...
    again = await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    assert f"already has request #{row.id}" in again.text
    assert len(bot.graph_calls("POST", "/agencies")) == 1
    # ...and the check finds it at Meta, where it goes on: the agency is asked to approve.
    report = await _upkeep(bot)
    assert [v.id for v in report.recovered.submitted] == [row.id]
    row = await _row(bot, row.id)
    assert row.status == ShareStatus.PENDING and row.pending_request_id
    assert buttons(approval_posts(bot)[-1]) == {
        Action.APPROVE: str(row.id),
        Action.DECLINE: str(row.id),
    }
    # ...and, as promised, the requester is told by DM how it ended, once.
    [dm] = bot.posts(OWNER)
    assert f"request #{row.id}" in str(dm.get("text")).lower()


async def test_a_real_timeout_says_how_long_meta_was_given(bot: Bot, wire: _Wire) -> None:
    wire.read_timeout = 0.2
    bot.sandbox.faults.timeout(hold_ms=60_000, method="POST", path=r"/agencies$")
    answer = await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    assert (
        f"Meta did not answer within {READ_SECONDS:g} s, so the share may or may not have "
        "happened." in answer.text
    )
    assert "server error" not in answer.text


async def test_a_broken_connection_is_not_called_a_timeout(bot: Bot) -> None:
    request = await _pending(bot)
    # Meta applies it, then the connection drops; Meta cannot be read afterwards either.
    bot.sandbox.faults.drop(method="POST", path=rf"^/{request.pending_request_id}$")
    bot.sandbox.faults.deny(rf"^/{request.pending_request_id}$", method="GET", times=1)
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert (
        "The connection to Meta broke before Meta answered, so the approval may or may not "
        "have happened." in click.text
    )
    assert "did not answer" not in click.text and "server error" not in click.text


async def test_a_refused_connection_says_nothing_was_sent(bot: Bot, wire: _Wire) -> None:
    request = await _pending(bot)
    wire.refuse = True
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert "Meta could not be reached, so nothing was sent; try again in a minute" in click.text
    assert "may or may not" not in click.text
    row = await _row(bot, request.id)
    assert (row.status, row.decider_slack_id) == (ShareStatus.PENDING, None)
    wire.refuse = False  # Meta is back: the click can simply be repeated
    await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert (await _row(bot, request.id)).status == ShareStatus.ACTIVE


# Recovery: a claim Meta cannot account for at once is finished as Meta shows it later.


async def test_an_approve_meta_applied_but_could_not_confirm_is_finished_by_recovery(
    bot: Bot,
) -> None:
    request = await _pending(bot)
    path = rf"^/{request.pending_request_id}$"
    bot.sandbox.faults.server_error(method="POST", path=path)
    bot.sandbox.faults.deny(path, method="GET", times=1)  # the check after it fails too
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert (
        "Meta answered with a server error (HTTP 500) and did not say whether it applied the "
        "change, so the approval may or may not have happened." in click.text
    )
    assert f"Request #{request.id} stays claimed until pixelbot has checked it" in click.text
    row = await _row(bot, request.id)
    assert (row.status, row.decider_slack_id) == (ShareStatus.APPROVING, NOVA_ADMIN)
    # Meanwhile another admin is told who is on it, and Meta is not asked again.
    other = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN2)
    assert f"being approved by <@{NOVA_ADMIN}> right now" in other.text
    assert _decisions(bot, request) == ["APPROVE"]

    report = await _upkeep(bot)
    assert [v.id for v in report.recovered.finished] == [request.id]
    row = await _row(bot, request.id)
    assert (row.status, row.decider_slack_id) == (ShareStatus.ACTIVE, NOVA_ADMIN)
    assert _decisions(bot, request) == ["APPROVE"]
    assert f"Approved by <@{NOVA_ADMIN}>" in _card(bot)
    assert f"Approved by <@{NOVA_ADMIN}>" in _told(bot, OWNER)
    [event] = await _events(bot, "reconcile")
    assert f"as the claim (approving by {NOVA_ADMIN}) asked" in (event.detail or "")


async def test_an_approve_meta_did_not_apply_is_reopened_and_the_clicker_told(bot: Bot) -> None:
    request = await _pending(bot)
    path = rf"^/{request.pending_request_id}$"
    bot.sandbox.faults.server_error(method="POST", path=path, takes_effect=False)
    bot.sandbox.faults.deny(path, method="GET", times=1)
    await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert (await _row(bot, request.id)).status == ShareStatus.APPROVING
    await _upkeep(bot)
    row = await _row(bot, request.id)
    assert (row.status, row.decider_slack_id) == (ShareStatus.PENDING, None)
    assert "you can decide it again" in _told(bot, NOVA_ADMIN)
    await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert (await _row(bot, request.id)).status == ShareStatus.ACTIVE


@pytest.mark.parametrize(
    ("at_meta", "status", "decider", "shown"),
    [
        ("APPROVE", ShareStatus.ACTIVE, NOVA_ADMIN, f"Approved by <@{NOVA_ADMIN}>"),
        ("DECLINE", ShareStatus.DECLINED, None, "Declined in Meta Business Settings"),
    ],
)
async def test_an_interrupted_approving_claim_is_the_clickers_only_if_meta_shows_it_approved(
    bot: Bot, at_meta: str, status: ShareStatus, decider: str | None, shown: str
) -> None:
    request = await _pending(bot)
    assert request.pending_request_id
    # A process died with the claim taken and the call at Meta, which then shows `at_meta`.
    async with bot.services.sessions.begin() as session:
        row = await session.get(ShareRequest, request.id)
        assert row is not None
        row.status, row.decider_slack_id = ShareStatus.APPROVING.value, NOVA_ADMIN
    bot.sandbox.world.decide(request.pending_request_id, at_meta)
    await _upkeep(bot)
    row = await _row(bot, request.id)
    assert (row.status, row.decider_slack_id) == (status, decider)
    assert shown in _card(bot)
    assert shown in _told(bot, OWNER)
    assert _decisions(bot, request) == []  # recovery never repeats the call


# An unshare whose answer was lost, clicked by an admin who is not the requester: recovery
# finishes it, and the clicker (who heard only "may or may not") is told its end by DM.


@pytest.mark.parametrize(
    ("takes_effect", "status", "clicker_hears"),
    [
        (True, ShareStatus.REVOKED, "went through"),
        (False, ShareStatus.ACTIVE, "never reached Meta"),
    ],
)
async def test_an_unshare_whose_answer_was_lost_reaches_its_clicker_when_recovered(
    bot: Bot, takes_effect: bool, status: ShareStatus, clicker_hears: str
) -> None:
    await bot.command(f"share {CHECKOUT} {BRIGHT} ADVERTISE")  # a partner: shared at once
    [row] = await bot.requests()
    assert row.status == ShareStatus.ACTIVE and row.requester_slack_id == OWNER
    path = rf"^/{CHECKOUT}/agencies$"
    bot.sandbox.faults.server_error(method="DELETE", path=path, takes_effect=takes_effect)
    bot.sandbox.faults.deny(path, method="GET", times=1)  # the check after it fails too
    click = await bot.click(Action.UNSHARE_CONFIRM, f"{CHECKOUT}:{BRIGHT}", OWNER2)
    assert "may or may not have happened" in click.text
    assert f"Request #{row.id} stays claimed" in click.text and "DM" in click.text
    assert (await _row(bot, row.id)).status == ShareStatus.REVOKING
    assert _told(bot, OWNER2) == ""  # nothing to tell yet: the end is not known

    await _upkeep(bot)
    assert (await _row(bot, row.id)).status == status
    [dm] = [texts(blocks_of(p)) for p in bot.posts(OWNER2)]
    assert clicker_hears in dm and "Bright" in dm
    # The requester hears only of a change (a removal that never happened is none).
    assert (f"#{row.id}" in _told(bot, OWNER)) is (status is ShareStatus.REVOKED)
    await _upkeep(bot)
    assert len(bot.posts(OWNER2)) == 1  # told once
    row = await _row(bot, row.id)
    assert (row.watcher_slack_id, row.watched_from) == (None, None)
