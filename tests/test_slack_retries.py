"""Slack's redeliveries of an event are answered 200 and handled once, whatever the timing."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack.dedupe import KEEP_FOR, claim
from bot.store.db import session_factory
from bot.store.models import SlackEvent, utcnow
from tests.e2e.conftest import NOVA_ADMIN, OWNER, Bot
from tests.e2e.conftest import bot as bot  # fixture, reused
from tests.e2e.conftest import make_bot as make_bot  # fixture, needed by `bot`
from tests.signing import event_body, signed_headers
from tests.waiting import until

RETRY = {"x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout"}


def _home(user: str) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": "D0000HOME", "tab": "home"}


async def _deliver(
    bot: Bot, event: dict[str, Any], event_id: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    """POST one Events API callback as Slack does; nothing is waited for after the answer."""
    body = event_body(event, event_id)
    signed = signed_headers(body) | {"content-type": "application/json"} | (headers or {})
    return await bot.http.post("/slack/events", content=body, headers=signed)


def _published_for(bot: Bot, user: str) -> int:
    return sum(c.params.get("user_id") == user for c in bot.slack.calls_to("views.publish"))


async def _settled(bot: Bot, marker_user: str) -> None:
    """Wait until the marker user's Home is published: every earlier event has been handled.

    Bolt starts event listeners in tasks, in order; a redelivery that got through would have
    started its task before the marker's, so the marker bounds the wait without a sleep.
    """
    await until(lambda: _published_for(bot, marker_user) >= 1)
    await bot.services.background.drain()


async def test_a_redelivered_event_is_acknowledged_and_dropped(bot: Bot) -> None:
    first = await _deliver(bot, _home(NOVA_ADMIN), "Ev0RETRY1")
    await until(lambda: _published_for(bot, NOVA_ADMIN) == 1)
    retry = await _deliver(bot, _home(NOVA_ADMIN), "Ev0RETRY1", RETRY)
    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry.content == b""  # an empty 200: Slack stops retrying
    other = await _deliver(bot, _home(OWNER), "Ev0OTHER2")  # a new event_id is handled
    assert other.status_code == 200
    await _settled(bot, OWNER)
    assert _published_for(bot, NOVA_ADMIN) == 1
    assert len(bot.slack.calls_to("views.publish")) == 2


async def test_a_retry_arriving_while_the_first_delivery_is_handled_is_dropped(bot: Bot) -> None:
    # Slack retries on http_timeout while the first delivery may still be in progress.
    answers = await asyncio.gather(
        _deliver(bot, _home(NOVA_ADMIN), "Ev0RACE01"),
        _deliver(bot, _home(NOVA_ADMIN), "Ev0RACE01", RETRY),
        _deliver(bot, _home(NOVA_ADMIN), "Ev0RACE01", RETRY | {"x-slack-retry-num": "2"}),
    )
    assert [a.status_code for a in answers] == [200, 200, 200]
    await _deliver(bot, _home(OWNER), "Ev0MARKER")
    await _settled(bot, OWNER)
    assert _published_for(bot, NOVA_ADMIN) == 1


async def test_commands_and_clicks_are_not_deduplicated(bot: Bot) -> None:
    first = await bot.command("help")
    again = await bot.command("help")  # the same text twice is two requests, both answered
    assert "/pixel share" in first.ack["text"]
    assert again.ack == first.ack
    async with bot.services.sessions() as session:
        assert (await session.scalars(select(SlackEvent))).all() == []


async def test_event_ids_older_than_a_day_are_pruned(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    now = utcnow()
    assert await claim(sessions, "Ev0OLD", now=now - KEEP_FOR - timedelta(minutes=1))
    assert await claim(sessions, "Ev0RECENT", now=now - timedelta(hours=1))
    assert await claim(sessions, "Ev0NEW", now=now, prune=True)
    async with sessions() as session:
        kept = set((await session.scalars(select(SlackEvent.event_id))).all())
    assert kept == {"Ev0RECENT", "Ev0NEW"}
    assert not await claim(sessions, "Ev0RECENT", prune=True)  # still taken


async def test_claim_is_first_come_first_served(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    results = await asyncio.gather(*(claim(sessions, "Ev0SAME01") for _ in range(8)))
    assert sorted(results) == [False] * 7 + [True]
