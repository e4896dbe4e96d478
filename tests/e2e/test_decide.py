"""Approve and Decline: the first click wins, Meta is asked once, every refusal is explained."""

from __future__ import annotations

import asyncio
import json

import pytest

from bot.flows.registry import Registry
from bot.flows.states import ShareStatus
from bot.slack.ids import Action, Callback, Field
from bot.store.models import ShareRequest
from tests.e2e.conftest import (
    BRIGHT_ADMIN,
    CHECKOUT,
    NOVA,
    NOVA_ADMIN,
    NOVA_ADMIN2,
    NOVA_CHANNEL,
    OWNER,
    STRANGER,
    WEBSITE,
    Bot,
    MakeBot,
    approval_posts,
    blocks_of,
    buttons,
    texts,
)


async def _pending(bot: Bot, pixel: str = WEBSITE) -> ShareRequest:
    await bot.command(f"share {pixel} {NOVA} ANALYZE")
    row = (await bot.requests())[-1]
    assert row.status == ShareStatus.PENDING
    return row


def _decisions(bot: Bot, request: ShareRequest) -> list[str]:
    """request_status values sent to Meta for this request."""
    return [
        c.params.get("request_status", "")
        for c in bot.graph_calls("POST", f"/{request.pending_request_id}")
    ]


async def _row(bot: Bot, request_id: int) -> ShareRequest:
    return next(r for r in await bot.requests() if r.id == request_id)


async def test_approve_shares_the_pixel_and_tells_everyone(bot: Bot) -> None:
    request = await _pending(bot)
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN, ts=request.slack_ts or "")
    assert _decisions(bot, request) == ["APPROVE"]
    row = await _row(bot, request.id)
    assert (row.status, row.decider_slack_id) == (ShareStatus.ACTIVE, NOVA_ADMIN)
    assert bot.sandbox.world.pixels[WEBSITE].agencies[NOVA] == ["ANALYZE"]
    [update] = bot.slack.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (NOVA_CHANNEL, request.slack_ts)
    edited = blocks_of(update.params)
    assert buttons(edited) == {} and f"Approved by <@{NOVA_ADMIN}>" in texts(edited)
    [reply] = [p for p in bot.posts(NOVA_CHANNEL) if p.get("thread_ts") == request.slack_ts]
    assert f"<@{NOVA_ADMIN}>" in texts(blocks_of(reply))
    [dm] = bot.posts(OWNER)
    assert "Approved" in texts(blocks_of(dm))
    assert click.posted == []  # the edited message says it all; no extra noise
    [event] = [e for e in await bot.audit() if e.action == "approve"]
    assert (event.actor, event.outcome, event.share_request_id) == (NOVA_ADMIN, "ok", request.id)


async def test_two_concurrent_approvals_reach_meta_once(bot: Bot) -> None:
    request = await _pending(bot)
    bot.sandbox.faults.latency_ms = 150  # the first click is still at Meta when the second lands
    first, second = await asyncio.gather(
        bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN),
        bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN2),
    )
    assert _decisions(bot, request) == ["APPROVE"]
    row = await _row(bot, request.id)
    assert row.status == ShareStatus.ACTIVE
    winner = row.decider_slack_id
    loser = second if winner == NOVA_ADMIN else first
    assert winner in (NOVA_ADMIN, NOVA_ADMIN2)
    assert f"<@{winner}>" in loser.text and "approv" in loser.text
    outcomes = sorted(e.outcome for e in await bot.audit() if e.action == "approve")
    assert outcomes == ["ok", "refused"]


async def test_decline_with_a_reason(bot: Bot) -> None:
    request = await _pending(bot)
    await bot.click(Action.DECLINE, str(request.id), NOVA_ADMIN)
    [opened] = bot.slack.calls_to("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == Callback.DECLINE
    assert view["private_metadata"] == str(request.id)
    assert _decisions(bot, request) == []  # opening the form decides nothing
    values = {
        Field.REASON: {
            Field.VALUE: {"type": "plain_text_input", "value": "Not our client <!channel>"}
        }
    }
    response = await bot.submit(Callback.DECLINE, values, NOVA_ADMIN, str(request.id))
    assert response.status_code == 200
    assert _decisions(bot, request) == ["DECLINE"]
    row = await _row(bot, request.id)
    assert (row.status, row.decision_reason) == (ShareStatus.DECLINED, "Not our client <!channel>")
    edited = texts(blocks_of(bot.slack.calls_to("chat.update")[0].params))
    assert "Declined by" in edited and "Not our client &lt;!channel&gt;" in edited
    assert "<!channel>" not in edited
    assert NOVA not in bot.sandbox.world.pixels[WEBSITE].agencies


async def test_the_requester_may_not_approve_their_own_request(bot: Bot) -> None:
    registry = Registry(bot.services.sessions, bot.services.flows.box)
    await registry.grant_admin(OWNER, NOVA)
    request = await _pending(bot)
    click = await bot.click(Action.APPROVE, str(request.id), OWNER)
    assert "You asked for this share yourself" in click.text
    assert f"<@{NOVA_ADMIN}>" in click.text
    assert _decisions(bot, request) == []
    assert (await _row(bot, request.id)).status == ShareStatus.PENDING


async def test_self_approval_when_the_setting_allows_it(make_bot: MakeBot) -> None:
    bot = await make_bot(allow_self_approval=True)
    await Registry(bot.services.sessions, bot.services.flows.box).grant_admin(OWNER, NOVA)
    request = await _pending(bot)
    await bot.click(Action.APPROVE, str(request.id), OWNER)
    assert _decisions(bot, request) == ["APPROVE"]


@pytest.mark.parametrize("user", [STRANGER, BRIGHT_ADMIN])
async def test_someone_else_clicking_is_told_who_can_and_nothing_changes(
    bot: Bot, user: str
) -> None:
    request = await _pending(bot)
    for action in (Action.APPROVE, Action.DECLINE):
        click = await bot.click(action, str(request.id), user)
        assert f"<@{NOVA_ADMIN}>" in click.text and f"<@{NOVA_ADMIN2}>" in click.text
    assert _decisions(bot, request) == [] and bot.slack.calls_to("views.open") == []
    assert (await _row(bot, request.id)).status == ShareStatus.PENDING
    refused = [e for e in await bot.audit() if e.actor == user]
    assert [e.outcome for e in refused] == ["refused", "refused"]


async def test_a_click_on_a_declined_request_says_so(bot: Bot) -> None:
    request = await _pending(bot)
    values = {Field.REASON: {Field.VALUE: {"type": "plain_text_input", "value": None}}}
    await bot.submit(Callback.DECLINE, values, NOVA_ADMIN, str(request.id))
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN2)
    assert f"declined by <@{NOVA_ADMIN}>" in click.text
    assert _decisions(bot, request) == ["DECLINE"]


async def test_a_click_on_a_cancelled_request_says_so(bot: Bot) -> None:
    request = await _pending(bot)
    await bot.command(f"unshare {WEBSITE} {NOVA}")
    await bot.click(Action.UNSHARE_CONFIRM, f"{WEBSITE}:{NOVA}", OWNER)
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert "cancelled" in click.text.lower()
    assert _decisions(bot, request) == []


@pytest.mark.parametrize(("at_meta", "status"), [("EXPIRED", "expired"), ("DECLINE", "declined")])
async def test_a_click_on_a_request_settled_in_meta_updates_everything(
    bot: Bot, at_meta: str, status: str
) -> None:
    request = await _pending(bot)
    assert request.pending_request_id
    bot.sandbox.world.decide(request.pending_request_id, at_meta)
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    row = await _row(bot, request.id)
    assert row.status == status and row.decider_slack_id is None
    assert status in click.text.lower()
    [update] = bot.slack.calls_to("chat.update")
    assert buttons(blocks_of(update.params)) == {}
    # Meta answered #100 "already decided"; the answer and its trace are kept.
    [event] = [e for e in await bot.audit() if e.action == "approve"]
    assert (event.outcome, event.graph_code) == ("failed", 100) and event.fbtrace_id


async def test_expired_agency_token_during_approve(bot: Bot) -> None:
    request = await _pending(bot)
    bot.sandbox.faults.expire_token(business_id=NOVA)
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert "Nova" in click.text and "reconnect" in click.text and "fbtrace_id" in click.text
    row = await _row(bot, request.id)
    assert (row.status, row.graph_error_code, row.decider_slack_id) == (
        ShareStatus.PENDING,
        190,
        None,
    )
    [event] = [e for e in await bot.audit() if e.action == "approve"]
    assert (event.outcome, event.graph_code) == ("failed", 190)
    assert bot.slack.calls_to("chat.update") == []  # the buttons stay: it can be tried again


async def test_permission_denied_during_approve(bot: Bot) -> None:
    request = await _pending(bot)
    bot.sandbox.faults.deny(rf"^/{request.pending_request_id}$", method="POST")
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert ":x:" in click.text and "fbtrace_id" in click.text
    row = await _row(bot, request.id)
    assert (row.status, row.graph_error_code) == (ShareStatus.PENDING, 200)


async def test_rate_limited_approve_can_be_retried(bot: Bot) -> None:
    request = await _pending(bot)
    rule = bot.sandbox.faults.rate_limit(
        times=None, method="POST", path=rf"^/{request.pending_request_id}$"
    )
    click = await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert "try again" in click.text.lower()
    assert (await _row(bot, request.id)).status == ShareStatus.PENDING
    rule.times = 0  # Meta lets calls through again
    await bot.click(Action.APPROVE, str(request.id), NOVA_ADMIN)
    assert (await _row(bot, request.id)).status == ShareStatus.ACTIVE


async def test_pixels_in_one_meta_request_are_decided_together(bot: Bot) -> None:
    first = await _pending(bot, WEBSITE)
    second = await _pending(bot, CHECKOUT)
    assert first.pending_request_id == second.pending_request_id
    assert len(approval_posts(bot)) == 2
    await bot.click(Action.APPROVE, str(second.id), NOVA_ADMIN)
    assert _decisions(bot, first) == ["APPROVE"]
    assert {r.status for r in await bot.requests()} == {ShareStatus.ACTIVE}
    assert {c.params["ts"] for c in bot.slack.calls_to("chat.update")} == {
        first.slack_ts,
        second.slack_ts,
    }


async def test_a_forged_button_value_changes_nothing(bot: Bot) -> None:
    request = await _pending(bot)
    for value in ("abc", "", "1;DROP TABLE", str(request.id + 100)):
        click = await bot.click(Action.APPROVE, value, NOVA_ADMIN)
        assert click.text and "wrong on our side" not in click.text
    assert (await _row(bot, request.id)).status == ShareStatus.PENDING
    assert _decisions(bot, request) == []
