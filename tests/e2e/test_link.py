"""`/pixel link`, `unlink` and `accounts`: checked first, batched by 50, each account explained."""

from __future__ import annotations

import pytest

from bot.flows.accounts import SEPTEMBER_2024
from bot.sandbox.world import AdAccount
from tests.e2e.conftest import (
    ACME,
    BRIGHT,
    NOVA,
    NOVA_ADMIN,
    OWNER,
    STRANGER,
    WEBSITE,
    Bot,
    Exchange,
    texts,
)

SHARED_BY_ACME = "500600700800902"  # Acme's account that Bright may use
BRIGHTS_OWN = "500600700800911"
BRIGHTS_OTHER = "500600700800912"
NOVAS_OWN = "500600700800921"  # Bright cannot reach it
GHOST = "500600700899999"  # no such ad account at Meta


def _usable_by_bright(bot: Bot, count: int) -> list[str]:
    """Add `count` ad accounts that Bright owns to the sandbox; their 15-digit ids."""
    ids = [f"5006007009{n:05d}" for n in range(count)]
    for number, account_id in enumerate(ids):
        name = f"Bright Agency - Client {number}"
        bot.sandbox.world.ad_accounts[account_id] = AdAccount(account_id, name, owner_id=BRIGHT)
    return ids


def _batch_calls(bot: Bot) -> list[object]:
    """HTTP calls to Graph's batch endpoint (POST /), not the operations inside them."""
    return [c for c in bot.sandbox.calls if c.method == "POST" and c.path == "/" and not c.in_batch]


def _linked(bot: Bot, business: str = BRIGHT) -> set[str]:
    return {a for b, a in bot.sandbox.world.pixels[WEBSITE].linked_accounts if b == business}


def _progress(reply: Exchange) -> list[str]:
    """Progress posts made to the command's response_url (before the final summary)."""
    return [texts(p) for p in reply.posted[:-1] if "Linking ad accounts" in texts(p)]


async def _audited(bot: Bot, action: str = "link") -> list[object]:
    return [e for e in await bot.audit() if e.action == action]


async def test_linking_120_accounts_takes_three_batches_with_progress(bot: Bot) -> None:
    accounts = _usable_by_bright(bot, 120)
    typed = [f"act_{a}" if n % 3 == 0 else a for n, a in enumerate(accounts)]
    reply = await bot.command(f"link {WEBSITE} {BRIGHT} {' '.join(typed)}")
    assert len(_batch_calls(bot)) == 3
    assert len(bot.graph_calls("POST", "/shared_accounts")) == 120
    progress = _progress(reply)
    assert progress and all(":hourglass" in p for p in progress)
    assert "50/120" in progress[0]
    assert "Linking ad accounts" not in reply.text  # the last post is the summary
    assert "Linked 120 · already linked 0 · refused 0" in reply.text
    assert _linked(bot) == set(accounts)
    [event] = await _audited(bot)
    assert (event.actor, event.outcome, event.pixel_id, event.business_id) == (
        OWNER,
        "ok",
        WEBSITE,
        BRIGHT,
    )


async def test_each_account_is_reported_with_its_reason(bot: Bot) -> None:
    await bot.command(f"link {WEBSITE} {BRIGHT} {BRIGHTS_OWN}")
    assert _linked(bot) == {BRIGHTS_OWN}
    # Meta refuses the first link it is sent inside the next batch (BRIGHTS_OTHER's).
    bot.sandbox.faults.deny(r"/shared_accounts$", method="POST", times=1)
    reply = await bot.command(
        f"link {WEBSITE} {BRIGHT} act_{BRIGHTS_OWN} {BRIGHTS_OTHER} {NOVAS_OWN} "
        f"act_{SHARED_BY_ACME} {GHOST}"
    )
    shown = reply.text
    assert "Linked 1 · already linked 1 · refused 3" in shown
    assert f"*Linked:* `act_{SHARED_BY_ACME}`" in shown
    assert f"*Already linked:* `act_{BRIGHTS_OWN}`" in shown
    for unreachable in (NOVAS_OWN, GHOST):
        assert f"`act_{unreachable}`: Bright Agency has no access to ad account" in shown
    assert SEPTEMBER_2024 in shown
    # Meta's own reason for the account it refused inside the batch.
    assert f"`act_{BRIGHTS_OTHER}`: You do not have permission for this action." in shown
    assert _linked(bot) == {BRIGHTS_OWN, SHARED_BY_ACME}
    # Unreachable accounts were never sent; the two others went in one batch.
    sent = [c.params["account_id"] for c in bot.graph_calls("POST", "/shared_accounts")]
    assert sent == [BRIGHTS_OWN, BRIGHTS_OTHER, SHARED_BY_ACME]
    assert len(_batch_calls(bot)) == 2
    _first, event = await _audited(bot)
    assert (event.outcome, event.graph_code) == ("ok", 200) and event.fbtrace_id
    assert "1 done, 1 already, 3 refused" in (event.detail or "")


async def test_a_business_without_the_pixel_is_told_to_share_first(bot: Bot) -> None:
    reply = await bot.command(f"link {WEBSITE} {NOVA} {NOVAS_OWN}")
    assert "Nova Media has no access to pixel" in reply.text
    assert SEPTEMBER_2024 in reply.text
    assert f"/pixel share {WEBSITE} {NOVA} ADVERTISE" in reply.text
    assert _batch_calls(bot) == [] and bot.graph_calls("POST", "/shared_accounts") == []
    assert _linked(bot, NOVA) == set()
    [event] = await _audited(bot)
    assert (event.outcome, event.business_id) == ("refused", NOVA)


async def test_unlink_removes_a_link_and_says_when_there_was_none(bot: Bot) -> None:
    await bot.command(f"link {WEBSITE} {BRIGHT} {BRIGHTS_OWN} {SHARED_BY_ACME}")
    assert _linked(bot) == {BRIGHTS_OWN, SHARED_BY_ACME}
    gone = await bot.command(f"unlink {WEBSITE} {BRIGHT} act_{BRIGHTS_OWN}")
    assert "Unlinked 1" in gone.text and f"`act_{BRIGHTS_OWN}`" in gone.text
    assert _linked(bot) == {SHARED_BY_ACME}
    [delete] = bot.graph_calls("DELETE", "/shared_accounts")
    assert delete.params["account_id"] == BRIGHTS_OWN

    again = await bot.command(f"unlink {WEBSITE} {BRIGHT} {BRIGHTS_OWN}")
    assert f"*Already unlinked:* `act_{BRIGHTS_OWN}`" in again.text
    assert len(bot.graph_calls("DELETE", "/shared_accounts")) == 1
    assert [e.outcome for e in await _audited(bot, "unlink")] == ["ok", "ok"]


async def test_accounts_lists_what_is_linked(bot: Bot) -> None:
    empty = await bot.command(f"accounts {WEBSITE} {BRIGHT}")
    assert "0 ad accounts" in empty.text and "none" in empty.text
    await bot.command(f"link {WEBSITE} {BRIGHT} {BRIGHTS_OWN} {SHARED_BY_ACME}")
    listed = await bot.command(f"accounts {WEBSITE} {BRIGHT}")
    assert "2 ad accounts of" in listed.text
    assert f"`act_{BRIGHTS_OWN}` Bright Agency - Acme campaigns" in listed.text
    assert f"`act_{SHARED_BY_ACME}` Acme Shoes - Retargeting" in listed.text


@pytest.mark.parametrize("command", ["link", "unlink", "accounts"])
async def test_a_stranger_is_refused(bot: Bot, command: str) -> None:
    text = f"{command} {WEBSITE} {BRIGHT}" + ("" if command == "accounts" else f" {BRIGHTS_OWN}")
    reply = await bot.command(text, user=STRANGER)
    assert "not an admin of any business connected to pixelbot" in reply.text
    assert bot.graph_calls("GET", "/shared_accounts") == []
    assert _batch_calls(bot) == [] and _linked(bot) == set()
    [event] = await _audited(bot, command)
    assert (event.actor, event.outcome) == (STRANGER, "refused")


async def test_an_agency_admin_cannot_link_to_the_owners_pixel(bot: Bot) -> None:
    reply = await bot.command(f"link {WEBSITE} {NOVA} {NOVAS_OWN}", user=NOVA_ADMIN)
    assert f"pixel {WEBSITE} is not visible at Meta to your business (Nova" in reply.text
    assert _batch_calls(bot) == [] and _linked(bot, NOVA) == set()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (f"link {WEBSITE} {BRIGHT}", "AD_ACCOUNT_ID is missing"),
        ("link 1 2", "AD_ACCOUNT_ID is missing"),
        (f"link x {BRIGHT} {BRIGHTS_OWN}", "PIXEL_ID must be a number"),
        (f"link {WEBSITE} {BRIGHT} act_12x", "AD_ACCOUNT_ID must be a number"),
        (f"unlink {WEBSITE} {BRIGHT} 1 2", "unexpected '2'"),
        (f"accounts {WEBSITE}", "BUSINESS_ID is missing"),
    ],
)
async def test_usage_errors_are_answered_in_the_ack(bot: Bot, text: str, problem: str) -> None:
    reply = await bot.command(text)
    shown = texts(reply.ack)
    assert problem in shown
    sub = text.split()[0]
    assert f"/pixel {sub} PIXEL_ID BUSINESS_ID" in shown
    assert reply.posted == []
    assert bot.sandbox.calls == [] and await _audited(bot, sub) == []


async def test_500_accounts_take_ten_batches_and_at_most_three_progress_posts(
    bot: Bot,
) -> None:
    accounts = _usable_by_bright(bot, 500)
    reply = await bot.command(f"link {WEBSITE} {BRIGHT} {' '.join(accounts)}")
    assert len(_batch_calls(bot)) == 10
    progress = _progress(reply)
    assert 1 <= len(progress) <= 3
    assert len(reply.posted) <= 5  # all a response_url accepts
    assert "Linked 500 · already linked 0 · refused 0" in reply.text
    assert _linked(bot) == set(accounts)


async def test_owner_linking_its_own_accounts_needs_no_share(bot: Bot) -> None:
    reply = await bot.command(f"link {WEBSITE} {ACME} 500600700800901")
    assert "Linked 1 · already linked 0 · refused 0" in reply.text
    assert _linked(bot, ACME) == {"500600700800901"}


async def test_only_unreachable_accounts_are_refused_without_asking_meta(bot: Bot) -> None:
    reply = await bot.command(f"link {WEBSITE} {BRIGHT} {NOVAS_OWN}")
    assert "Linked 0 · already linked 0 · refused 1" in reply.text
    assert f"Bright Agency has no access to ad account act_{NOVAS_OWN}" in reply.text
    assert SEPTEMBER_2024 in reply.text
    assert _batch_calls(bot) == [] and bot.graph_calls("POST", "/shared_accounts") == []
    [event] = await _audited(bot)
    assert (event.outcome, event.graph_code) == ("refused", None)


async def test_an_expired_agency_token_is_explained_and_nothing_is_linked(bot: Bot) -> None:
    bot.sandbox.faults.expire_token(business_id=BRIGHT)
    reply = await bot.command(f"link {WEBSITE} {BRIGHT} {BRIGHTS_OWN}")
    assert "Bright Agency" in reply.text and "reconnect" in reply.text
    assert "fbtrace_id" in reply.text
    assert _batch_calls(bot) == [] and _linked(bot) == set()
    [event] = await _audited(bot)
    assert (event.outcome, event.graph_code) == ("failed", 190)


async def test_an_upload_only_share_is_told_it_cannot_link_before_meta_is_asked(
    bot: Bot,
) -> None:
    # Meta's September 2024 check is about access; the tasks decide whether ad accounts may
    # use the pixel (docs/meta.md, inference 5). Bright has Website for UPLOAD only here.
    bot.sandbox.world.pixels[WEBSITE].agencies[BRIGHT] = ["UPLOAD"]
    reply = await bot.command(f"link {WEBSITE} {BRIGHT} {BRIGHTS_OWN}")
    assert "for UPLOAD only: linking ad accounts needs ADVERTISE or ANALYZE or EDIT" in reply.text
    assert f"/pixel share {WEBSITE} {BRIGHT} ADVERTISE" in reply.text
    assert _batch_calls(bot) == [] and bot.graph_calls("POST", "/shared_accounts") == []
    assert _linked(bot) == set()
    [event] = await _audited(bot)
    assert (event.outcome, event.business_id) == ("refused", BRIGHT)
