"""Forged, stale, replayed or unsigned requests are refused (401) and nothing at all happens:
no Slack call, no response_url post, no database change, no Graph call.

Each case is checked against a control: the same body, correctly signed, does take effect,
so a 401 here is the signature check at work and not a body that was never valid.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from bot.flows.states import ShareStatus
from bot.slack.ids import Action
from bot.store.models import AuditEvent, SlackEvent
from tests.e2e.conftest import BRIGHT, NOVA, NOVA_ADMIN, NOVA_CHANNEL, OWNER, WEBSITE, Bot
from tests.hostile.harness import mark, post, settle, share_rows
from tests.signing import action_body, command_body, event_body, signed_headers

Headers = dict[str, str]
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}


def _now() -> int:
    return int(time.time())


def _replayed(body: str) -> Headers:
    """A signature Slack made a minute ago, sent again with a fresh timestamp."""
    old = signed_headers(body, timestamp=_now() - 60)
    return signed_headers(body) | {"x-slack-signature": old["x-slack-signature"]}


def _without(name: str) -> Callable[[str], Headers]:
    def headers(body: str) -> Headers:
        signed = signed_headers(body)
        del signed[name]
        return signed

    return headers


def _timestamp(value: str) -> Callable[[str], Headers]:
    return lambda body: signed_headers(body) | {"x-slack-request-timestamp": value}


def _tampered(body: str) -> str:
    """The body with its reply address (or event id) changed by one letter."""
    tampered = body.replace("webhook%2Fsig", "webhook%2Fsih").replace("EvForged1", "EvForged2")
    assert tampered != body
    return tampered


def _appended(body: str) -> str:
    """The body with one more field, in its own encoding."""
    if body.startswith("{"):
        return body[:-1] + ', "authed_users": ["U0NOVAADM1"]}'
    return body + "&user_id=U0NOVAADM1"


# name -> (headers for a body, the body actually sent instead, if any)
FORGERIES: dict[str, tuple[Callable[[str], Headers], Callable[[str], str] | None]] = {
    "wrong secret": (lambda b: signed_headers(b, secret="0" * 32), None),
    "stale timestamp": (lambda b: signed_headers(b, timestamp=_now() - 6 * 60), None),
    "future timestamp": (lambda b: signed_headers(b, timestamp=_now() + 6 * 60), None),
    "replayed signature": (_replayed, None),
    "missing signature": (_without("x-slack-signature"), None),
    "missing timestamp": (_without("x-slack-request-timestamp"), None),
    "empty signature": (lambda b: signed_headers(b) | {"x-slack-signature": ""}, None),
    "signature of v1": (
        lambda b: signed_headers(b) | {"x-slack-signature": "v1=" + "0" * 64},
        None,
    ),
    "zero timestamp": (_timestamp("0"), None),
    "negative timestamp": (_timestamp("-1"), None),
    "empty body": (signed_headers, lambda b: ""),
    "tampered body": (signed_headers, lambda b: _tampered(b)),
    "appended field": (signed_headers, lambda b: _appended(b)),
}
# A timestamp Python's int() refuses makes slack_sdk's verifier raise: Bolt answers 500 and
# hands the *unverified* body to the error hook, which posts to its response_url.
NON_NUMERIC = {
    "non-numeric timestamp": (_timestamp("abc"), None),
    "empty timestamp": (_timestamp(""), None),
    "float timestamp": (_timestamp("1.7e9"), None),
}
NON_NUMERIC_BUG = (
    "slack_sdk SignatureVerifier.is_valid does int(timestamp) unguarded: Bolt answers 500 and "
    "calls the @app.error hook (bot/slack/errors.py) with the unverified body, which POSTs to "
    "the attacker's response_url (or DMs the body's user): unauthenticated SSRF; see report"
)


@dataclass
class Target:
    """A request kind: how to build its body, headers to add, and proof that it took effect."""

    name: str
    content_type: Headers
    body: Callable[[Bot], str]
    took_effect: Callable[[Bot], object]


async def _pending_id(bot: Bot) -> int:
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE", OWNER)
    [row] = await bot.requests()
    assert row.status == ShareStatus.PENDING
    return row.id


def _command(bot: Bot) -> str:
    return command_body(f"share {WEBSITE} {NOVA} ANALYZE", OWNER, bot.slack.response_url("sig"))


def _approve(bot: Bot, request_id: int) -> str:
    url = bot.slack.response_url("sig")
    return action_body(Action.APPROVE, str(request_id), NOVA_ADMIN, url, channel=NOVA_CHANNEL)


def _event(_bot: Bot) -> str:
    home = {"type": "app_home_opened", "user": NOVA_ADMIN, "channel": "D0HOME", "tab": "home"}
    return event_body(home, "EvForged1")


async def _event_rows(bot: Bot) -> int:
    async with bot.services.sessions() as session:
        events = await session.scalar(select(func.count()).select_from(SlackEvent))
        audits = await session.scalar(select(func.count()).select_from(AuditEvent))
        return int(events or 0) * 1000 + int(audits or 0)


async def _body_for(bot: Bot, target: str) -> tuple[str, Headers]:
    if target == "command":
        return _command(bot), FORM
    if target == "approve":
        return _approve(bot, await _pending_id(bot)), FORM
    return _event(bot), JSON


async def _refused(bot: Bot, body: str, content_type: Headers, forgery: str) -> list[str]:
    """Send `body` forged as `forgery`; what went wrong, if anything (empty: all refused)."""
    headers_for, altered = (FORGERIES | NON_NUMERIC)[forgery]
    sent = altered(body) if altered else body
    before, tables = await mark(bot), await _event_rows(bot)
    response = await post(bot, sent, headers_for(body) | content_type)
    await settle(bot)
    problems = []
    if response.status_code != 401:
        problems.append(f"answered {response.status_code}")
    if bot.slack.calls[before.slack_calls :]:
        problems.append("reached Slack's Web API")
    if bot.slack.webhooks[before.webhooks :]:
        problems.append("got a reply on its response_url")
    if bot.sandbox.calls[before.graph_calls :]:
        problems.append("reached Meta")
    if await share_rows(bot) != before.rows:
        problems.append("changed share_requests")
    if await _event_rows(bot) != tables:
        problems.append("was recorded (slack_events or audit)")
    return [f"{forgery}: {p}" for p in problems]


async def _took_effect(bot: Bot, target: str, rows_before: list[object]) -> None:
    if target == "command":
        assert len(await share_rows(bot)) == len(rows_before) + 1
    elif target == "approve":
        [row] = await bot.requests()
        assert row.status == ShareStatus.ACTIVE
    else:
        published = bot.slack.calls_to("views.publish")
        assert [c.params.get("user_id") for c in published] == [NOVA_ADMIN]


TARGETS = ["command", "approve", "event"]


@pytest.mark.parametrize("target", TARGETS)
async def test_forged_requests_are_refused_and_change_nothing(bot: Bot, target: str) -> None:
    body, content_type = await _body_for(bot, target)
    rows = await share_rows(bot)
    problems = [
        p for forgery in FORGERIES for p in await _refused(bot, body, content_type, forgery)
    ]
    assert problems == []
    # Control: the very same body, signed as Slack signs, takes effect (so each 401 above was
    # the signature check at work, and no forged event_id was taken).
    control = await post(bot, body, signed_headers(body) | content_type)
    assert control.status_code == 200
    await settle(bot)
    await _took_effect(bot, target, rows)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("target", TARGETS)
async def test_non_numeric_timestamps_are_refused_and_change_nothing(bot: Bot, target: str) -> None:
    body, content_type = await _body_for(bot, target)
    problems = [
        p for forgery in NON_NUMERIC for p in await _refused(bot, body, content_type, forgery)
    ]
    assert problems == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_ssl_check_skips_verification_but_runs_nothing(bot: Bot) -> None:
    """Bolt lets `ssl_check=1` through unsigned (Slack's certificate probe): it must stop there,
    even with a command or a click riding along."""
    await _pending_id(bot)
    before = await mark(bot)
    command = urlencode(
        {
            "ssl_check": "1",
            "command": "/pixel",
            "text": f"unshare {WEBSITE} {BRIGHT}",
            "user_id": OWNER,
            "response_url": bot.slack.response_url("ssl"),
            "trigger_id": "1.2.3",
        }
    )
    [row] = await bot.requests()
    click = {
        "ssl_check": "1",
        "type": "block_actions",
        "user": {"id": NOVA_ADMIN},
        "response_url": bot.slack.response_url("ssl"),
        "actions": [{"action_id": Action.APPROVE, "value": str(row.id), "type": "button"}],
    }
    # Slack's probe is a top-level form field: answered 200 and nothing else. Inside an
    # interactivity payload it is no probe, just an unsigned request: 401.
    for body, status in ((command, 200), (urlencode({"payload": json.dumps(click)}), 401)):
        response = await post(bot, body, FORM)
        assert response.status_code == status
        assert status == 401 or response.text == ""
    await settle(bot)
    assert bot.slack.calls[before.slack_calls :] == []
    assert bot.slack.webhooks[before.webhooks :] == []
    assert bot.sandbox.calls[before.graph_calls :] == []
    assert await share_rows(bot) == before.rows


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_unverified_body_never_makes_the_bot_post_to_its_response_url(bot: Bot) -> None:
    body = command_body("help", OWNER, f"http://127.0.0.1:{bot.slack.port}/webhook/attacker")
    await post(bot, body, signed_headers(body) | {"x-slack-request-timestamp": "abc"})
    assert bot.slack.posted_to("attacker") == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_unverified_body_never_makes_the_bot_dm_anyone(bot: Bot) -> None:
    payload = {"type": "view_submission", "user": {"id": "U0VICTIM01"}, "view": "x"}
    body = urlencode({"payload": json.dumps(payload)})
    await post(bot, body, signed_headers(body) | {"x-slack-request-timestamp": "abc"})
    assert bot.slack.calls_to("chat.postMessage") == []
