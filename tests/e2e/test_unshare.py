"""`/pixel unshare`: confirm first, then one DELETE at Meta; pending requests are cancelled."""

from __future__ import annotations

import pytest

from bot.flows.states import ShareStatus
from bot.slack.ids import Action
from bot.store.models import ShareRequest
from tests.e2e.conftest import (
    ACME,
    BRIGHT,
    BRIGHT_ADMIN,
    CHECKOUT,
    NOVA,
    NOVA_ADMIN,
    NOVA_CHANNEL,
    OWNER,
    STRANGER,
    WEBSITE,
    Bot,
    blocks_of,
    buttons,
    texts,
)


def _deletes(bot: Bot) -> list[object]:
    return bot.graph_calls("DELETE", "/agencies")


async def _unshares(bot: Bot) -> list[object]:
    return [e for e in await bot.audit() if e.action == "unshare"]


async def _pending(bot: Bot) -> ShareRequest:
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    [row] = await bot.requests()
    assert row.status == ShareStatus.PENDING and row.slack_ts
    return row


async def test_unshare_asks_first_then_removes_the_access(bot: Bot) -> None:
    asked = await bot.command(f"unshare {WEBSITE} {BRIGHT}")
    shown = buttons(asked.last)
    assert shown[Action.UNSHARE_CONFIRM] == f"{WEBSITE}:{BRIGHT}"
    assert Action.UNSHARE_ABORT in shown
    assert "Remove the access of" in asked.text and "Bright" in asked.text
    assert _deletes(bot) == []  # asking changes nothing
    assert BRIGHT in bot.sandbox.world.pixels[WEBSITE].agencies

    done = await bot.click(Action.UNSHARE_CONFIRM, shown[Action.UNSHARE_CONFIRM], OWNER)
    [delete] = _deletes(bot)
    assert delete.params["business"] == BRIGHT and delete.path.endswith(f"/{WEBSITE}/agencies")
    assert BRIGHT not in bot.sandbox.world.pixels[WEBSITE].agencies
    assert done.last["replace_original"] is True
    assert f"*Bright Agency* (`{BRIGHT}`) has no access to it at Meta now" in done.text
    assert "Acme Shoes - Website" in done.text
    [event] = await _unshares(bot)
    assert (event.actor, event.outcome, event.pixel_id) == (OWNER, "ok", WEBSITE)


async def test_a_share_made_here_is_revoked(bot: Bot) -> None:
    await bot.command(f"share {CHECKOUT} {BRIGHT} ADVERTISE")
    [row] = await bot.requests()
    assert row.status == ShareStatus.ACTIVE
    await bot.command(f"unshare {CHECKOUT} {BRIGHT}")
    done = await bot.click(Action.UNSHARE_CONFIRM, f"{CHECKOUT}:{BRIGHT}", OWNER)
    [row] = await bot.requests()
    assert (row.status, row.decider_slack_id) == (ShareStatus.REVOKED, OWNER)
    assert "Removed the access of *Bright Agency*" in done.text and f"#{row.id}" in done.text
    assert BRIGHT not in bot.sandbox.world.pixels[CHECKOUT].agencies
    [event] = await _unshares(bot)
    assert (event.outcome, event.share_request_id) == ("ok", row.id)


async def test_a_pending_request_is_cancelled_everywhere(bot: Bot) -> None:
    request = await _pending(bot)
    assert request.pending_request_id
    agreement = bot.sandbox.world.agreements[request.pending_request_id]
    assert WEBSITE in agreement.assets

    asked = await bot.command(f"unshare {WEBSITE} {NOVA}")
    assert f"Cancel pending request #{request.id}" in asked.text
    assert request.pending_request_id in asked.text
    done = await bot.click(Action.UNSHARE_CONFIRM, f"{WEBSITE}:{NOVA}", OWNER)
    assert len(_deletes(bot)) == 1
    [row] = await bot.requests()
    assert row.status == ShareStatus.CANCELLED
    assert f"Cancelled pending request #{row.id}" in done.text
    # Meta no longer holds the pixel in its request (which, being empty, is cancelled).
    assert WEBSITE not in agreement.assets and agreement.status == "CANCELED"
    [update] = bot.slack.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (NOVA_CHANNEL, request.slack_ts)
    edited = blocks_of(update.params)
    assert buttons(edited) == {} and "cancel" in texts(edited).lower()

    approve = await bot.click(Action.APPROVE, str(row.id), NOVA_ADMIN)
    assert "cancelled" in approve.text.lower()
    assert bot.graph_calls("POST", f"/{request.pending_request_id}") == []
    assert NOVA not in bot.sandbox.world.pixels[WEBSITE].agencies


async def test_cancelling_one_pixel_keeps_the_rest_of_metas_request(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE")
    await bot.command(f"share {CHECKOUT} {NOVA} ANALYZE")
    website, checkout = await bot.requests()
    assert website.pending_request_id == checkout.pending_request_id
    agreement = bot.sandbox.world.agreements[website.pending_request_id or ""]
    await bot.click(Action.UNSHARE_CONFIRM, f"{WEBSITE}:{NOVA}", OWNER)
    website, checkout = await bot.requests()
    assert (website.status, checkout.status) == (ShareStatus.CANCELLED, ShareStatus.PENDING)
    assert agreement.status == "PENDING" and list(agreement.assets) == [CHECKOUT]
    [update] = bot.slack.calls_to("chat.update")
    assert update.params["ts"] == website.slack_ts  # the Checkout card keeps its buttons
    await bot.click(Action.APPROVE, str(checkout.id), NOVA_ADMIN)
    pixels = bot.sandbox.world.pixels
    assert NOVA in pixels[CHECKOUT].agencies and NOVA not in pixels[WEBSITE].agencies


async def test_keep_it_changes_nothing(bot: Bot) -> None:
    await bot.command(f"unshare {WEBSITE} {BRIGHT}")
    kept = await bot.click(Action.UNSHARE_ABORT, "", OWNER)
    assert "Kept as it is" in kept.text and kept.last["replace_original"] is True
    assert _deletes(bot) == []
    assert BRIGHT in bot.sandbox.world.pixels[WEBSITE].agencies
    assert await _unshares(bot) == []


async def test_nothing_to_unshare_is_said_plainly(bot: Bot) -> None:
    reply = await bot.command(f"unshare {CHECKOUT} {NOVA}")
    assert f"is not shared with business {NOVA}" in reply.text
    assert Action.UNSHARE_CONFIRM not in buttons(reply.last)
    assert _deletes(bot) == []
    [event] = await _unshares(bot)
    assert (event.actor, event.outcome) == (OWNER, "refused")


@pytest.mark.parametrize(
    ("user", "said"),
    [
        (STRANGER, "not an admin of any business connected to pixelbot"),
        # Bright sees the pixel (it is shared with it) but is not its owner.
        (BRIGHT_ADMIN, f"Only admins of Acme Shoes ({ACME}) can do that: <@{OWNER}>"),
        (NOVA_ADMIN, f"pixel {WEBSITE} is not visible at Meta to your business (Nova"),
    ],
)
async def test_only_the_owners_admins_may_unshare(bot: Bot, user: str, said: str) -> None:
    reply = await bot.command(f"unshare {WEBSITE} {BRIGHT}", user=user)
    assert said in reply.text
    assert Action.UNSHARE_CONFIRM not in buttons(reply.last)
    assert _deletes(bot) == []
    [event] = await _unshares(bot)
    assert (event.actor, event.outcome) == (user, "refused")


@pytest.mark.parametrize(
    ("user", "said"),
    [
        (STRANGER, "not an admin of any business connected to pixelbot"),
        (BRIGHT_ADMIN, f"Only admins of Acme Shoes ({ACME}) can do that: <@{OWNER}>"),
    ],
)
async def test_a_forged_confirm_click_by_someone_else_is_refused(
    bot: Bot, user: str, said: str
) -> None:
    await bot.command(f"share {CHECKOUT} {BRIGHT}")
    click = await bot.click(Action.UNSHARE_CONFIRM, f"{CHECKOUT}:{BRIGHT}", user)
    assert said in click.text
    assert _deletes(bot) == []
    assert BRIGHT in bot.sandbox.world.pixels[CHECKOUT].agencies
    [row] = await bot.requests()
    assert (row.status, row.decider_slack_id) == (ShareStatus.ACTIVE, None)
    [event] = await _unshares(bot)
    assert (event.actor, event.outcome) == (user, "refused")


async def test_meta_denying_the_delete_keeps_every_row(bot: Bot) -> None:
    await bot.command(f"share {CHECKOUT} {BRIGHT}")
    bot.sandbox.faults.deny(r"/agencies$", method="DELETE")
    done = await bot.click(Action.UNSHARE_CONFIRM, f"{CHECKOUT}:{BRIGHT}", OWNER)
    assert ":x:" in done.text and "fbtrace_id" in done.text
    assert BRIGHT in bot.sandbox.world.pixels[CHECKOUT].agencies
    [row] = await bot.requests()
    assert (row.status, row.decider_slack_id) == (ShareStatus.ACTIVE, None)
    [event] = await _unshares(bot)
    assert (event.outcome, event.graph_code) == ("failed", 200) and event.fbtrace_id


async def test_expired_owner_token_keeps_the_pending_request(bot: Bot) -> None:
    request = await _pending(bot)
    bot.sandbox.faults.expire_token(business_id=ACME, method="DELETE")
    done = await bot.click(Action.UNSHARE_CONFIRM, f"{WEBSITE}:{NOVA}", OWNER)
    assert "Acme" in done.text and "reconnect" in done.text and "fbtrace_id" in done.text
    [row] = await bot.requests()
    assert (row.status, row.decider_slack_id) == (ShareStatus.PENDING, None)
    assert request.pending_request_id
    assert WEBSITE in bot.sandbox.world.agreements[request.pending_request_id].assets
    assert bot.slack.calls_to("chat.update") == []  # the approval card keeps its buttons
    [event] = await _unshares(bot)
    assert (event.outcome, event.graph_code) == ("failed", 190) and event.fbtrace_id


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("x:y", "PIXEL_ID must be a number"),
        ("", "PIXEL_ID must be a number"),
        (f"{WEBSITE}:", "AGENCY_BUSINESS_ID must be a number"),
        ("1:2:3", "AGENCY_BUSINESS_ID must be a number"),
    ],
)
async def test_a_forged_button_value_changes_nothing(bot: Bot, value: str, said: str) -> None:
    click = await bot.click(Action.UNSHARE_CONFIRM, value, OWNER)
    assert said in click.text and "wrong on our side" not in click.text
    assert _deletes(bot) == []
    assert BRIGHT in bot.sandbox.world.pixels[WEBSITE].agencies


async def test_a_delete_meta_applied_but_whose_answer_was_lost_is_this_clicks(bot: Bot) -> None:
    await bot.command(f"share {CHECKOUT} {BRIGHT} ADVERTISE")
    bot.sandbox.faults.server_error(method="DELETE", path=r"/agencies$", takes_effect=True)
    done = await bot.click(Action.UNSHARE_CONFIRM, f"{CHECKOUT}:{BRIGHT}", OWNER)
    [row] = await bot.requests()
    # Meta no longer lists Bright on the pixel: the DELETE was applied, and by this click.
    assert (row.status, row.decider_slack_id) == (ShareStatus.REVOKED, OWNER)
    assert "Removed the access of *Bright Agency*" in done.text
    assert len(_deletes(bot)) == 1
    [event] = await _unshares(bot)
    assert event.outcome == "ok" and "answer was lost" in (event.detail or "")


async def test_a_delete_meta_did_not_apply_before_losing_the_answer_keeps_the_share(
    bot: Bot,
) -> None:
    await bot.command(f"share {CHECKOUT} {BRIGHT} ADVERTISE")
    bot.sandbox.faults.server_error(method="DELETE", path=r"/agencies$", takes_effect=False)
    done = await bot.click(Action.UNSHARE_CONFIRM, f"{CHECKOUT}:{BRIGHT}", OWNER)
    [row] = await bot.requests()
    assert (row.status, row.decider_slack_id) == (ShareStatus.ACTIVE, None)
    assert "server error (HTTP 500)" in done.text and "may or may not" in done.text
    assert BRIGHT in bot.sandbox.world.pixels[CHECKOUT].agencies
    [event] = await _unshares(bot)
    assert event.outcome == "unknown"


async def test_a_withdrawal_meta_applied_but_whose_answer_was_lost_is_this_clicks(
    bot: Bot,
) -> None:
    request = await _pending(bot)
    bot.sandbox.faults.server_error(method="DELETE", path=r"/agencies$", takes_effect=True)
    done = await bot.click(Action.UNSHARE_CONFIRM, f"{WEBSITE}:{NOVA}", OWNER)
    [row] = await bot.requests()
    assert (row.status, row.decider_slack_id) == (ShareStatus.CANCELLED, OWNER)
    assert f"Cancelled pending request #{request.id}" in done.text
    [update] = bot.slack.calls_to("chat.update")
    assert buttons(blocks_of(update.params)) == {}
