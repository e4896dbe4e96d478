"""What a hostile test looks at after each request: what the user was shown, what reached Meta,
and whether the database moved; and how it sends one, signed as Slack signs.

Everything is read from the real boundaries: the fake Slack Web API (calls and response_url
posts), the Graph sandbox's call log, and the `share_requests` table.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from bot.flows.states import ShareStatus
from bot.store.models import ShareRequest
from tests.e2e.conftest import (
    BRIGHT_ADMIN,
    BRIGHT_CHANNEL,
    NOVA,
    NOVA_ADMIN,
    NOVA_ADMIN2,
    NOVA_CHANNEL,
    OWNER,
    OWNER2,
    STRANGER,
    WEBSITE,
    Bot,
)
from tests.signing import SIGNING_SECRET

# Only ids we validated may sit in a Graph path: an optional version, a numeric id, an edge.
GRAPH_PATH = re.compile(r"/?(v[0-9]+\.[0-9]+/)?([0-9]+(/[a-z_]+)?)?")

# What must never reach a user: Python's own words for a failure.
PYTHON_LEAKS = re.compile(
    r"Traceback|File \"|\b[A-Za-z]*(Error|Exception)\(|\b(Key|Value|Type|Attribute|Index|"
    r"Lookup|Runtime|Assertion|Integrity|Operational|Programming|JSONDecode|UnicodeDecode|"
    r"Name)Error\b|sqlalchemy|asyncpg|aiosqlite|slack_bolt|<class '|\bNone\b.*\bobject\b"
)
UNEXPECTED = "went wrong on our side"
# What a refusal's body must never name: an exception class, a traceback, one of our modules
# or a library's. Ours are plain sentences about the request.
INTERNAL_NAMES = re.compile(
    r"\b[A-Z][A-Za-z]*(Error|Exception|Warning)\b|Exception|Traceback|File \"|<class '|"
    r"\bbot\.[a-z_]|\b(slack_bolt|slack_sdk|sqlalchemy|asyncpg|aiosqlite|hypothesis)\b|"
    r"\bjson\.|\bNoneType\b|\b(dict|list|str|int)\(\)"
)
WRITES = {"POST", "DELETE", "PUT", "PATCH"}

# `<...>` sequences the bot itself writes: mentions of the people and channels it knows.
KNOWN = {
    *(OWNER, OWNER2, NOVA_ADMIN, NOVA_ADMIN2, BRIGHT_ADMIN, STRANGER),
    *(NOVA_CHANNEL, BRIGHT_CHANNEL),
}
_OUR_MARKUP = re.compile(r"<([@#](?P<id>[UWC][A-Z0-9]+)|(?P<date>!date\^[0-9]+\^[^|<>]*\|[^<>]*))>")
_ANY_MARKUP = re.compile(r"<[^<>]*>")

_SHARE_COLUMNS = [c.key for c in ShareRequest.__table__.columns]

# Every fuzz test's example count is multiplied by this: PIXELBOT_HOSTILE_SCALE=10 for a long
# run (the default keeps tests/hostile within about two and a half minutes on two cores).
SCALE = float(os.environ.get("PIXELBOT_HOSTILE_SCALE", "1"))


def examples(count: int) -> int:
    """`count` hypothesis examples, scaled by PIXELBOT_HOSTILE_SCALE."""
    return max(1, round(count * SCALE))


@dataclass
class Mark:
    """Where each log stood before a request, so that only what it caused is looked at."""

    slack_calls: int
    webhooks: int
    graph_calls: int
    rows: list[tuple[Any, ...]]


async def share_rows(bot: Bot) -> list[tuple[Any, ...]]:
    """Every column of every share request, in id order: equal lists mean nothing moved."""
    async with bot.services.sessions() as session:
        found = (await session.scalars(select(ShareRequest).order_by(ShareRequest.id))).all()
        return [tuple(getattr(row, name) for name in _SHARE_COLUMNS) for row in found]


async def mark(bot: Bot) -> Mark:
    """The state of every log and of `share_requests`, now."""
    return Mark(
        len(bot.slack.calls), len(bot.slack.webhooks), len(bot.sandbox.calls), await share_rows(bot)
    )


async def settle(bot: Bot) -> None:
    """Wait for background work and for Bolt's own untracked listener tasks to finish.

    Bolt runs each listener in a task nobody awaits; a failure there reaches the error hook
    after the HTTP answer, so tests wait for those tasks too before they look.
    """
    for _ in range(50):
        await bot.services.background.drain()
        bolt = [
            t
            for t in asyncio.all_tasks()
            if t is not asyncio.current_task() and "run_ack_function" in repr(t.get_coro())
        ]
        if not bolt and not bot.services.background.busy:
            return
        await asyncio.gather(*bolt, return_exceptions=True)
    raise AssertionError("background work did not finish")


async def post(bot: Bot, body: str | bytes, headers: dict[str, str]) -> httpx.Response:
    """POST to /slack/events; an exception escaping the ASGI app is what a server sends: 500.

    Whatever was sent, the answer is below 500 and, when it refuses, names nothing internal.
    """
    try:
        response = await bot.http.post("/slack/events", content=body, headers=headers)
    except Exception as exc:  # an ASGI server turns any escaping exception into a 500
        response = httpx.Response(500, text=f"{type(exc).__name__}: {exc}")
    await settle(bot)
    assert_plain_answer(response)
    return response


def assert_plain_answer(response: httpx.Response) -> None:
    """Below 500; a refusal (4xx) is a plain sentence. A 200's texts may quote what a person
    typed, so those are checked as shown (`assert_safe_answer`), not here."""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:300]}"
    if response.status_code != 200:
        leak = INTERNAL_NAMES.search(response.text)
        assert leak is None, f"a refusal names {leak.group(0)!r}: {response.text[:300]}"


def graph_writes_since(bot: Bot, before: Mark) -> list[str]:
    """Graph calls since `before` that could change something at Meta."""
    calls = bot.sandbox.calls[before.graph_calls :]
    return [f"{c.method} {c.path}" for c in calls if c.method.upper() in WRITES]


def _strings(node: Any, *, markup: bool) -> str:
    """Text fields of a message, view or ack; with `markup`, only those Slack renders as
    mrkdwn (a `plain_text` object shows `<!channel>` literally, so it is left out)."""
    found: list[str] = []

    def walk(item: Any) -> None:
        if isinstance(item, dict):
            if markup and item.get("type") == "plain_text":
                return
            for key, value in item.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(item, list):
            for element in item:
                walk(element)

    walk(node)
    return "\n".join(found)


def shown_since(
    bot: Bot, before: Mark, ack: httpx.Response | None = None, *, markup: bool = False
) -> list[str]:
    """Every text the app showed anyone since `before`: the ack, response_url posts, Web API
    calls (messages, DMs, views). With `markup`, only what Slack would render as mrkdwn."""
    shown: list[str] = []
    # Slack shows nothing of a non-200 answer's body (it reports a failure instead).
    if ack is not None and ack.status_code == 200 and ack.content:
        try:
            shown.append(_strings(ack.json(), markup=markup))
        except ValueError:
            shown.append(ack.text)
    shown += [_strings(hook, markup=markup) for hook in bot.slack.webhooks[before.webhooks :]]
    for call in bot.slack.calls[before.slack_calls :]:
        params = dict(call.params)
        for key in ("blocks", "view"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        shown.append(_strings(params, markup=markup))
    return [s for s in shown if s]


def assert_safe_answer(
    bot: Bot, before: Mark, ack: httpx.Response | None = None, plain: tuple[str, ...] = ()
) -> list[str]:
    """No Python internals in anything shown (plus `plain`, e.g. form errors), nothing
    injected in what Slack renders; returns everything shown."""
    shown = shown_since(bot, before, ack) + list(plain)
    assert_no_leak(shown)
    assert_inert(shown_since(bot, before, ack, markup=True))
    return shown


def error_ids(shown: list[str]) -> set[str]:
    """Error ids quoted by unexpected-error messages."""
    return set(re.findall(r"error id `(E[0-9A-F]{8})`", "\n".join(shown)))


def assert_logged(records: list[logging.LogRecord], error_id: str) -> None:
    """The error hook logged `error_id` with its traceback, for the operator to find."""
    logged = [r for r in records if getattr(r, "error_id", None) == error_id]
    assert logged, f"error id {error_id} was shown but never logged"
    assert all(r.exc_info for r in logged), f"error {error_id} was logged without a traceback"


def slack_methods_since(bot: Bot, before: Mark) -> list[str]:
    """Web API methods called since `before`."""
    return [c.method for c in bot.slack.calls[before.slack_calls :]]


def assert_no_leak(shown: list[str]) -> None:
    """No traceback, exception text or unexpected-error message in anything shown."""
    for text in shown:
        leak = PYTHON_LEAKS.search(text)
        assert leak is None, f"Python internals shown to a user ({leak.group(0)!r}): {text[:500]}"
        assert UNEXPECTED not in text, f"an unexpected error reached the user: {text[:500]}"


def assert_inert(shown: list[str]) -> None:
    """Every `<...>` shown is markup the bot wrote for people it knows: no injected mention,
    broadcast or link survived unescaped."""
    for text in shown:
        for found in _ANY_MARKUP.finditer(text):
            ours = _OUR_MARKUP.fullmatch(found.group(0))
            known = ours is not None and (ours.group("date") or ours.group("id") in KNOWN)
            assert known, f"unescaped markup {found.group(0)!r} shown: {text[:500]}"


def graph_paths_since(bot: Bot, before: Mark) -> list[str]:
    """Paths of the Graph calls that reached the sandbox since `before`."""
    return [c.path for c in bot.sandbox.calls[before.graph_calls :]]


def assert_graph_paths_validated(bot: Bot, before: Mark) -> None:
    """Every Graph path since `before` is built only from numeric ids and edge names."""
    for path in graph_paths_since(bot, before):
        assert GRAPH_PATH.fullmatch(path), f"unvalidated text in a Graph path: {path!r}"


def rows_changed(before: Mark, after: list[tuple[Any, ...]]) -> bool:
    """Whether share_requests differs from what `before` saw."""
    return before.rows != after


async def pending_request(bot: Bot) -> str:
    """The id of a request waiting for Nova's decision."""
    await bot.command(f"share {WEBSITE} {NOVA} ANALYZE", OWNER)
    [row] = [r for r in await bot.requests() if r.status == ShareStatus.PENDING]
    return str(row.id)


def signed_bytes(body: bytes) -> dict[str, str]:
    """Slack's signature over the raw bytes (tests.signing signs text, as UTF-8)."""
    timestamp = str(int(time.time()))
    base = b"v0:" + timestamp.encode() + b":" + body
    digest = hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()
    return {"x-slack-request-timestamp": timestamp, "x-slack-signature": "v0=" + digest}


async def send_signed(bot: Bot, body: str | bytes, content_type: dict[str, str]) -> httpx.Response:
    """POST `body` signed as Slack signs it, whatever its bytes (checked as `post` does)."""
    raw = body.encode() if isinstance(body, str) else body
    return await post(bot, raw, signed_bytes(raw) | content_type)
