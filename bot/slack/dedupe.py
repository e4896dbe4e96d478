"""Slack's redeliveries of an Events API callback are dropped, on every replica.

Slack retries a callback (same `event_id`, header `X-Slack-Retry-Num`) when it did not get a
200 in time, even if the first delivery is still being handled (slack.md §4 items 1-2). The
first delivery to insert the event_id into `slack_events` (the database is shared by every
replica) handles the event; any other delivery gets an empty 200 and stops there.

The claim is made before the ack, so an event whose handling fails after the claim is not
handled again by a retry: at most once, which is what the App Home and other events need.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.slack.services import Services
from bot.store.models import SlackEvent, utcnow

log = logging.getLogger(__name__)

# Slack gives up after three retries within about five minutes; a day is plenty.
KEEP_FOR = timedelta(days=1)
# One new event in PRUNE_ONE_IN also deletes the expired rows: the table stays about a day's
# worth of events without a scheduler, and the extra DELETE seldom delays an ack.
PRUNE_ONE_IN = 100

Next = Callable[[], Awaitable[BoltResponse | None]]


def event_id_of(body: dict[str, Any]) -> str | None:
    """The event_id of an Events API callback; None for any other request."""
    if body.get("type") != "event_callback":
        return None
    event_id = body.get("event_id")
    return event_id if isinstance(event_id, str) and event_id else None


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    event_id: str,
    *,
    prune: bool = False,
    now: datetime | None = None,
) -> bool:
    """Record `event_id` as handled; False when another delivery already recorded it."""
    now = now or utcnow()
    try:
        async with sessions.begin() as session:
            session.add(SlackEvent(event_id=event_id, received_at=now))
            await session.flush()
            if prune:
                old = delete(SlackEvent).where(SlackEvent.received_at < now - KEEP_FOR)
                await session.execute(old)
    except IntegrityError:
        return False
    return True


def middleware(services: Services) -> Callable[..., Awaitable[BoltResponse | None]]:
    """Listener middleware for event listeners: drops redelivered events.

    On the event listeners only, not global: commands and clicks, most of the traffic,
    then pay nothing for it.
    """

    async def drop_redeliveries(
        body: dict[str, Any], request: AsyncBoltRequest, next_: Next
    ) -> BoltResponse | None:
        event_id = event_id_of(body)
        if event_id is None:
            # Commands and clicks are made idempotent by the share-request state machine.
            return await next_()
        if await claim(services.sessions, event_id, prune=secrets.randbelow(PRUNE_ONE_IN) == 0):
            return await next_()
        retry = _header(request.headers, "x-slack-retry-num")
        reason = _header(request.headers, "x-slack-retry-reason")
        log.info(
            "dropped Slack event %s: already taken (retry %s, reason %s)",
            event_id,
            retry,
            reason,
            extra={"event_id": event_id, "retry_num": retry, "retry_reason": reason},
        )
        # Without next() Bolt needs a response, or it answers 404 and Slack retries again.
        return BoltResponse(status=200, body="")

    return drop_redeliveries


def _header(headers: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = headers.get(name)
    return values[0] if values else None
