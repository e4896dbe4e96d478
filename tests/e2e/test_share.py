"""`/pixel share`: shared at once, pending with an approval message, refused, or failed at Meta."""

from __future__ import annotations

from bot.flows.states import ShareStatus
from bot.slack.ids import Action
from tests.e2e.conftest import (
    ACME,
    BRIGHT,
    CHECKOUT,
    NOVA,
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


async def test_share_with_a_partner_is_shared_at_once(bot: Bot) -> None:
    reply = await bot.command(f"share {CHECKOUT} {BRIGHT} analyze,advertise")
    assert "shared with" in reply.text and "Bright" in reply.text
    [row] = await bot.requests()
    assert row.status == ShareStatus.ACTIVE and row.decided_at is not None
    assert row.permitted_tasks == ["ADVERTISE", "ANALYZE"]
    assert bot.sandbox.world.pixels[CHECKOUT].agencies[BRIGHT] == ["ADVERTISE", "ANALYZE"]
    assert approval_posts(bot) == []
    [event] = [e for e in await bot.audit() if e.action == "share"]
    assert (event.actor, event.outcome, event.share_request_id) == (OWNER, "ok", row.id)


async def test_share_with_a_new_agency_posts_an_approval_message(bot: Bot) -> None:
    reply = await bot.command(f"share {WEBSITE} {NOVA} ANALYZE", user=OWNER)
    [row] = await bot.requests()
    assert row.status == ShareStatus.PENDING and row.pending_request_id
    assert f"<#{NOVA_CHANNEL}>" in reply.text
    [post] = approval_posts(bot)
    message = blocks_of(post)
    assert buttons(message) == {Action.APPROVE: str(row.id), Action.DECLINE: str(row.id)}
    shown = texts(message)
    for fact in (WEBSITE, "Acme", "Nova", "ANALYZE", f"<@{OWNER}>", row.pending_request_id):
        assert fact in shown
    assert row.slack_channel == NOVA_CHANNEL and row.slack_ts
    # Nothing was shared yet: Nova must accept first.
    assert NOVA not in bot.sandbox.world.pixels[WEBSITE].agencies


async def test_share_to_an_unregistered_agency_is_kept_and_explained(make_bot: MakeBot) -> None:
    bot = await make_bot(register_nova=False)
    reply = await bot.command(f"share {WEBSITE} {NOVA}")
    [row] = await bot.requests()
    assert row.status == ShareStatus.PENDING and row.pending_request_id
    assert "Business Settings" in reply.text and "not connected" in reply.text
    assert bot.slack.calls_to("chat.postMessage") == []


async def test_a_stranger_cannot_share_and_is_told_who_can(bot: Bot) -> None:
    reply = await bot.command(f"share {WEBSITE} {NOVA}", user=STRANGER)
    assert "not an admin" in reply.text
    assert await bot.requests() == []
    assert bot.graph_calls("POST", "/agencies") == []
    [event] = await _attempts(bot)
    assert (event.actor, event.outcome) == (STRANGER, "refused")


async def test_an_agency_admin_cannot_share_the_owners_pixel(bot: Bot) -> None:
    from tests.e2e.conftest import NOVA_ADMIN

    reply = await bot.command(f"share {WEBSITE} {BRIGHT}", user=NOVA_ADMIN)
    # Nova's token cannot even read Acme's pixel: it is not Nova's to share.
    assert f"pixel {WEBSITE} is not visible at Meta to your business (Nova" in reply.text
    assert await bot.requests() == []
    assert bot.graph_calls("POST", "/agencies") == []


async def test_a_second_share_while_one_is_pending_is_refused(bot: Bot) -> None:
    await bot.command(f"share {WEBSITE} {NOVA}")
    reply = await bot.command(f"share {WEBSITE} {NOVA}")
    assert "already has request" in reply.text
    assert len(await bot.requests()) == 1
    assert len(bot.graph_calls("POST", "/agencies")) == 1


async def test_expired_owner_token_fails_clearly_and_keeps_the_attempt(bot: Bot) -> None:
    bot.sandbox.faults.expire_token(business_id=ACME, method="POST")
    reply = await bot.command(f"share {WEBSITE} {NOVA}")
    assert "Acme" in reply.text and "reconnect" in reply.text
    assert "fbtrace_id" in reply.text
    [row] = await bot.requests()
    assert row.status == ShareStatus.FAILED and row.graph_error_code == 190
    assert row.graph_fbtrace_id
    [event] = await _attempts(bot)
    assert (event.outcome, event.graph_code) == ("failed", 190) and event.fbtrace_id


async def test_edit_without_allowlist_shows_metas_own_words(bot: Bot) -> None:
    reply = await bot.command(f"share {WEBSITE} {NOVA} EDIT")
    assert "EDIT access is currently restricted" in reply.text
    [row] = await bot.requests()
    assert (row.status, row.graph_error_code) == (ShareStatus.FAILED, 200)


async def test_meta_rejecting_a_parameter_is_shown_and_recorded(bot: Bot) -> None:
    bot.sandbox.faults.deny(r"/agencies$", method="POST")
    reply = await bot.command(f"share {WEBSITE} {NOVA}")
    assert ":x:" in reply.text
    [row] = await bot.requests()
    assert row.status == ShareStatus.FAILED and row.graph_error_code == 200


async def test_share_to_a_business_meta_does_not_know_reaches_meta_and_fails_with_100(
    bot: Bot,
) -> None:
    # Registered in pixelbot (so no name lookup) but unknown to Meta: Meta answers #100.
    from pydantic import SecretStr

    from bot.flows.registry import Registry
    from bot.tokens import TokenBox
    from tests.conftest import SECRET_KEY

    registry = Registry(bot.services.sessions, TokenBox(SecretStr(SECRET_KEY)))
    await registry.add_business("100200300400599", "Ghost Agency", None, SecretStr("EAAghost0001"))
    reply = await bot.command(f"share {WEBSITE} 100200300400599")
    [row] = await bot.requests()
    assert (row.status, row.graph_error_code) == (ShareStatus.FAILED, 100)
    assert ":x:" in reply.text and "fbtrace_id" in reply.text


async def test_rate_limited_share_says_when_to_retry(bot: Bot) -> None:
    bot.sandbox.faults.rate_limit(times=None, method="POST", path=r"/agencies$")
    reply = await bot.command(f"share {WEBSITE} {NOVA}")
    assert "try again" in reply.text.lower()
    [row] = await bot.requests()
    assert row.status == ShareStatus.FAILED and row.graph_error_code == 80004
    assert NOVA not in bot.sandbox.world.pixels[WEBSITE].agencies


async def test_unknown_agency_id_is_refused_before_anything_is_stored(bot: Bot) -> None:
    reply = await bot.command(f"share {WEBSITE} 100200300400598")
    assert "Meta knows no business" in reply.text
    assert await bot.requests() == []
    assert bot.graph_calls("POST", "/agencies") == []


async def test_malformed_share_gets_usage_in_the_ack(bot: Bot) -> None:
    reply = await bot.command("share 12ab 34")
    assert "PIXEL_ID must be a number" in texts(reply.ack)
    assert "/pixel share PIXEL_ID AGENCY_BUSINESS_ID" in texts(reply.ack)
    assert await bot.requests() == [] and await _attempts(bot) == []


async def _attempts(bot: Bot) -> list:
    return [e for e in await bot.audit() if e.action == "share"]


async def test_no_database_connection_is_held_while_meta_answers(bot: Bot) -> None:
    """Every flow, one at a time: at each Graph call no connection is checked out."""
    await bot.command(f"share {WEBSITE} {NOVA}")
    [row] = await bot.requests()
    await bot.click(Action.APPROVE, str(row.id), "U0NOVAADM1")
    await bot.command(f"share {CHECKOUT} {BRIGHT}")
    await bot.command(f"link {CHECKOUT} {BRIGHT} 500600700800911")
    await bot.command(f"info {WEBSITE}")
    await bot.command(f"unshare {WEBSITE} {NOVA}")
    await bot.click(Action.UNSHARE_CONFIRM, f"{WEBSITE}:{NOVA}", OWNER)
    assert len(bot.pool.held) > 10  # Meta was asked, many times
    assert set(bot.pool.held) == {0}


async def test_the_approval_message_survives_slack_rate_limiting_and_a_500(bot: Bot) -> None:
    bot.slack.outage("chat.postMessage", 429, 500)
    reply = await bot.command(f"share {WEBSITE} {NOVA} ANALYZE", user=OWNER)
    [row] = await bot.requests()
    assert f"<#{NOVA_CHANNEL}>" in reply.text
    # Three attempts reached Slack: the same card, refused twice, accepted the third time.
    first, second, accepted = approval_posts(bot)
    assert first == second == accepted
    assert buttons(blocks_of(accepted)) == {
        Action.APPROVE: str(row.id),
        Action.DECLINE: str(row.id),
    }
    assert row.slack_ts  # the accepted post's ts, so the card can be edited later
