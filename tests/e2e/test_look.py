"""Looking: `/pixel info`, `/pixel pending`, `/pixel history` with its pages, and App Home."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.flows.registry import Registry
from bot.flows.states import ShareStatus
from bot.slack.ids import Action
from tests.e2e.conftest import (
    ACME,
    BRIGHT,
    BRIGHT_ADMIN,
    CHECKOUT,
    NOVA,
    NOVA_ADMIN,
    NOVA_CHANNEL,
    OUTLET,
    OWNER,
    OWNER2,
    STRANGER,
    WEBSITE,
    Bot,
    buttons,
    texts,
)

LINKED = "500600700800902"  # Acme's Retargeting account, usable by Bright


def _requests_sent_to_meta(bot: Bot, pending_request_id: str | None) -> list[str]:
    calls = bot.graph_calls("POST", f"/{pending_request_id}")
    return [c.params.get("request_status", "") for c in calls]


async def _eventually_published(bot: Bot, count: int) -> list[dict[str, Any]]:
    """views.publish calls, once `count` have arrived (event listeners run after the ack)."""
    for _ in range(200):
        calls = bot.slack.calls_to("views.publish")
        if len(calls) >= count:
            return [c.params for c in calls]
        await asyncio.sleep(0.01)
    raise AssertionError(f"views.publish was called {len(calls)} times, expected {count}")


def _home(event_user: str, tab: str) -> dict[str, Any]:
    return {
        "type": "app_home_opened",
        "user": event_user,
        "channel": "D0000HOME",
        "tab": tab,
        "event_ts": "1700000000.000100",
    }


# /pixel info


async def test_info_shows_the_pixel_its_agencies_accounts_and_open_requests(bot: Bot) -> None:
    bot.sandbox.world.pixels[WEBSITE].linked_accounts.add((BRIGHT, LINKED))
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    [row] = await bot.requests()
    reply = await bot.command(f"info {WEBSITE}", user=OWNER)
    assert reply.ack.get("response_type") == "ephemeral"  # acked first, answered after
    shown = reply.text
    for fact in ("Acme Shoes - Website", WEBSITE, "*Owner:* *Acme Shoes*", ACME, "2025-06-01"):
        assert fact in shown
    assert f"*Bright Agency* (`{BRIGHT}`): ANALYZE, ADVERTISE" in shown
    assert f"`act_{LINKED}`" in shown and shown.count(f"act_{LINKED}") == 1
    assert f"#{row.id} to *Nova Media*" in shown and "Waiting for an admin" in shown
    assert buttons(reply.last) == {}  # a report, not a place to decide


async def test_info_with_nothing_shared_says_none(bot: Bot) -> None:
    reply = await bot.command(f"info {OUTLET}", user=OWNER2)
    shown = reply.text
    assert "Acme Shoes - Outlet (CAPI)" in shown and "*Last fired:* never" in shown
    assert "*Shared with*\nno agency" in shown
    assert "*Linked ad accounts*\nnone" in shown and "*Open requests*\nnone" in shown


async def test_info_for_an_admin_whose_business_cannot_see_the_pixel_is_refused(
    bot: Bot,
) -> None:
    reply = await bot.command(f"info {WEBSITE}", user=NOVA_ADMIN)
    assert f"pixel {WEBSITE} is not visible at Meta to your business (Nova Media)" in reply.text
    assert "Acme Shoes - Website" not in reply.text
    assert bot.graph_calls("GET", "/agencies") == []


async def test_info_for_a_stranger_says_they_administer_no_business(bot: Bot) -> None:
    reply = await bot.command(f"info {WEBSITE}", user=STRANGER)
    assert "not an admin of any business connected to pixelbot" in reply.text
    assert bot.sandbox.calls == []  # no token to ask Meta with


async def test_info_is_read_by_whichever_of_the_users_businesses_can_see_the_pixel(
    bot: Bot,
) -> None:
    # Bright comes first by name but cannot see Checkout; Nova, once approved, can.
    registry = Registry(bot.services.sessions, bot.services.flows.box)
    await registry.grant_admin(BRIGHT_ADMIN, NOVA)
    await bot.command(f"share {CHECKOUT} {NOVA}")
    [row] = await bot.requests()
    await bot.click(Action.APPROVE, str(row.id), NOVA_ADMIN)
    reply = await bot.command(f"info {CHECKOUT}", user=BRIGHT_ADMIN)
    assert "*Read as:* Nova Media" in reply.text
    assert f"*Nova Media* (`{NOVA}`): ANALYZE" in reply.text


async def test_info_for_an_agency_shows_its_own_share_and_not_other_agencies(bot: Bot) -> None:
    bot.sandbox.world.pixels[WEBSITE].linked_accounts.add((BRIGHT, LINKED))
    await bot.command(f"share {WEBSITE} {NOVA}")
    reply = await bot.command(f"info {WEBSITE}", user=BRIGHT_ADMIN)  # Bright can read it
    assert "*Read as:* Bright Agency" in reply.text
    assert f"*Bright Agency* (`{BRIGHT}`): ANALYZE, ADVERTISE" in reply.text
    assert reply.text.count(f"act_{LINKED}") == 1  # Bright is both the reader and the agency
    assert "Nova" not in reply.text and "*Open requests*\nnone" in reply.text


# /pixel pending


async def test_pending_lists_what_waits_with_buttons_that_work(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    await bot.command(f"share {CHECKOUT} {NOVA} UPLOAD")
    first, second = await bot.requests()
    reply = await bot.command("pending", user=NOVA_ADMIN)
    shown = reply.text
    assert "2 requests waiting for your decision" in shown
    assert f"*#{first.id}* *Acme Shoes - Website*" in shown
    assert f"*#{second.id}* *Acme Shoes - Checkout*" in shown and "UPLOAD" in shown
    assert f"<@{OWNER}>" in shown
    rows = [
        {e["action_id"]: e["value"] for e in block["elements"]}
        for block in reply.last["blocks"]
        if block["type"] == "actions"
    ]
    assert rows == [
        {Action.APPROVE: str(first.id), Action.DECLINE: str(first.id)},
        {Action.APPROVE: str(second.id), Action.DECLINE: str(second.id)},
    ]
    value = rows[1][Action.APPROVE]
    await bot.click(Action.APPROVE, value, NOVA_ADMIN, channel="D0NOVAADM1", ts="9.9")
    again = await bot.click(Action.APPROVE, value, NOVA_ADMIN, channel="D0NOVAADM1", ts="9.9")
    assert "already approved" in again.text
    assert _requests_sent_to_meta(bot, second.pending_request_id) == ["APPROVE"]
    assert bot.sandbox.world.pixels[CHECKOUT].agencies[NOVA] == ["UPLOAD"]
    # Both pixels were in one Meta request, so both were approved by that one call; their
    # cards in Nova's channel lost their buttons, wherever the click came from.
    assert {r.status for r in await bot.requests()} == {ShareStatus.ACTIVE}
    updates = bot.slack.calls_to("chat.update")
    assert {(u.params["channel"], u.params["ts"]) for u in updates} == {
        (NOVA_CHANNEL, first.slack_ts),
        (NOVA_CHANNEL, second.slack_ts),
    }
    after = await bot.command("pending", user=NOVA_ADMIN)
    assert "0 requests waiting for your decision" in after.text and buttons(after.last) == {}


async def test_the_requester_sees_their_own_requests_without_buttons(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA}")
    await bot.command(f"share {CHECKOUT} {BRIGHT}")  # Bright is a partner: shared at once
    pending, active = await bot.requests()
    reply = await bot.command("pending", user=OWNER)
    shown = reply.text
    assert "Nothing waits for you." in shown
    mine = shown.split("*Your requests*", 1)[1]
    assert f"#{pending.id} pixel *Acme Shoes - Website*" in mine and "Waiting for an admin" in mine
    assert f"#{active.id} pixel *Acme Shoes - Checkout*" in mine
    assert buttons(reply.last) == {}


async def test_pending_for_a_stranger_is_empty(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA}")
    reply = await bot.command("pending", user=STRANGER)
    assert "0 requests waiting" in reply.text
    assert "Nothing waits for you." in reply.text and "You have no requests." in reply.text
    assert buttons(reply.last) == {} and WEBSITE not in reply.text


# /pixel history


async def test_history_is_newest_first_and_shows_metas_error(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    await bot.command(f"share {CHECKOUT} {NOVA} EDIT")  # EDIT is allowlist-only: Meta says no
    [_, failed] = await bot.requests()
    reply = await bot.command(f"history {CHECKOUT}", user=OWNER)
    lines = reply.text.splitlines()
    assert f"*History of pixel `{CHECKOUT}`*" in lines
    [line] = [x for x in lines if "share failed" in x]
    assert f"<@{OWNER}>" in line and f"request #{failed.id}" in line
    assert "Meta error #200" in line and f"fbtrace_id `{failed.graph_fbtrace_id}`" in line
    assert WEBSITE not in reply.text  # only the pixel asked about
    everything = (await bot.command("history", user=OWNER)).text.splitlines()
    order = [x for x in everything if "share pending" in x or "share failed" in x]
    assert "share failed" in order[0] and "share pending" in order[1]  # newest first


async def test_history_pages_with_an_older_button(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA}")
    for _ in range(16):  # each one refused: the first is still pending
        await bot.command(f"share {WEBSITE} {NOVA}")
    reply = await bot.command(f"history {WEBSITE}", user=OWNER)
    first_page = reply.text
    assert first_page.count("share refused") == 15 and "share pending" not in first_page
    value = buttons(reply.last)[Action.HISTORY_MORE]
    assert value == f"{WEBSITE}:1"
    older = await bot.click(Action.HISTORY_MORE, value, OWNER, channel="C0000CHAN")
    assert older.last.get("replace_original") is True
    page_two = older.text
    assert page_two.count("share refused") == 1 and "share pending" in page_two
    assert Action.HISTORY_MORE not in buttons(older.last)  # the last page


async def test_a_stranger_sees_only_their_own_history(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA}", user=OWNER)
    pixels = [f"9000000000000{i:02d}" for i in range(17)]
    for pixel in pixels:
        await bot.command(f"share {pixel} {NOVA}", user=STRANGER)
    reply = await bot.command("history", user=STRANGER)
    first_page = reply.text
    assert first_page.count(f"<@{STRANGER}> · share refused") == 15
    assert f"pixel `{pixels[-1]}`" in first_page and f"pixel `{pixels[0]}`" not in first_page
    assert f"<@{OWNER}>" not in first_page and "· operator ·" not in first_page
    value = buttons(reply.last)[Action.HISTORY_MORE]
    assert value == ":1"
    older = await bot.click(Action.HISTORY_MORE, value, STRANGER, channel="C0000CHAN")
    page_two = older.text
    assert f"pixel `{pixels[1]}`" in page_two and f"pixel `{pixels[0]}`" in page_two
    assert f"pixel `{pixels[2]}`" not in page_two and f"<@{OWNER}>" not in page_two


async def test_history_of_a_pixel_for_a_stranger_does_not_show_the_owners_events(
    bot: Bot,
) -> None:
    await bot.command(f"share {WEBSITE} {NOVA}", user=OWNER)
    reply = await bot.command(f"history {WEBSITE}", user=STRANGER)
    assert "No history yet." in reply.text and f"<@{OWNER}>" not in reply.text
    assert buttons(reply.last) == {}


@pytest.mark.parametrize("value", ["abc", "1:x", f"{WEBSITE}:-1", "1;2"])
async def test_a_forged_older_button_is_refused(bot: Bot, value: str) -> None:
    click = await bot.click(Action.HISTORY_MORE, value, OWNER, channel="C0000CHAN")
    assert "does not belong to a pixelbot history" in click.text
    assert "wrong on our side" not in click.text


# App Home


async def test_app_home_lists_what_waits_and_how_to(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA}")
    [row] = await bot.requests()
    await bot.event(_home(NOVA_ADMIN, "home"))
    [published] = await _eventually_published(bot, 1)
    assert published["user_id"] == NOVA_ADMIN
    view = published["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home"
    assert buttons(view) == {Action.APPROVE: str(row.id), Action.DECLINE: str(row.id)}
    shown = texts(view)
    assert f"*#{row.id}* *Acme Shoes - Website*" in shown
    assert "/pixel share PIXEL_ID AGENCY_BUSINESS_ID" in shown and "/pixel pending" in shown


async def test_app_home_messages_tab_publishes_nothing(bot: Bot) -> None:
    await bot.event(_home(NOVA_ADMIN, "messages"), event_id="Ev0001")
    await bot.event(_home(OWNER, "home"), event_id="Ev0002")
    # Events are handled in order; by the time OWNER's Home is published, the Messages tab
    # event is long done, and it published nothing.
    [published] = await _eventually_published(bot, 1)
    assert published["user_id"] == OWNER
    await asyncio.sleep(0.05)
    assert len(bot.slack.calls_to("views.publish")) == 1


async def test_app_home_for_the_requester_shows_their_request_without_buttons(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA}")
    await bot.event(_home(OWNER, "home"))
    [published] = await _eventually_published(bot, 1)
    view = published["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert buttons(view) == {}
    assert "Nothing waits for you." in texts(view) and "Waiting for an admin" in texts(view)


# Bad input


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("frobnicate 1 2", "unknown subcommand 'frobnicate'"),
        ("info 12x", "PIXEL_ID must be a number (digits only), got '12x'"),
        ("info", "PIXEL_ID is missing"),
        ("history 123 456", "unexpected '456'"),
        ("pending now", "unexpected 'now'"),
    ],
)
async def test_bad_input_gets_usage_in_the_ack(bot: Bot, text: str, said: str) -> None:
    reply = await bot.command(text, user=OWNER)
    shown = texts(reply.ack)
    assert reply.ack["response_type"] == "ephemeral" and said in shown
    subcommand = text.split()[0]
    if subcommand == "frobnicate":
        assert "/pixel help" in shown
    else:
        assert f"Usage: `/pixel {subcommand}" in shown
    assert reply.posted == [] and bot.sandbox.calls == []
    assert await bot.requests() == []
