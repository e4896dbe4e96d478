"""Slack calls made after an outcome is committed. Best effort: a failed call is logged and
never undoes or hides what happened at Meta."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Sequence

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows.context import Context
from bot.flows.sharing import remember_message
from bot.flows.views import RequestView
from bot.slack.blocks import Message
from bot.slack.request_blocks import (
    approval_message,
    requester_dm,
    settled_message,
    thread_reply,
)
from bot.slack.times import now

log = logging.getLogger(__name__)

SlackFailure = (SlackApiError, SlackClientError, OSError, TimeoutError)


async def post_approval(
    client: AsyncWebClient, ctx: Context, request: RequestView, channel: str
) -> str | None:
    """Post the Approve/Decline message in the agency's channel; the channel, or None."""
    message = approval_message(request, now())
    try:
        response = await client.chat_postMessage(channel=channel, **message.as_kwargs())
    except SlackFailure as exc:
        log.warning(
            "approval message for request %s not posted in %s: %s", request.id, channel, exc
        )
        return None
    await remember_message(ctx, request.id, channel, str(response["ts"]))
    return channel


async def announce(client: AsyncWebClient, requests: Sequence[RequestView], actor: str) -> None:
    """Edit each approval message, reply in its thread, and DM each requester once."""
    told: set[str] = set()
    for request in requests:
        await refresh(client, request)
        await reply_in_thread(client, request, thread_reply(request))
        if request.requester != actor and request.requester not in told:
            told.add(request.requester)
            await direct(client, request.requester, requester_dm(request))


async def refresh(client: AsyncWebClient, request: RequestView) -> None:
    """Redraw an approval message from the row (e.g. after a click found it settled)."""
    if request.slack_channel and request.slack_ts:
        await _attempt(
            "redraw the approval message",
            client.chat_update(
                channel=request.slack_channel,
                ts=request.slack_ts,
                **settled_message(request).as_kwargs(),
            ),
        )


async def _attempt(what: str, call: Awaitable[object]) -> None:
    try:
        await call
    except SlackFailure as exc:
        log.warning("could not %s: %s", what, exc)


async def reply_in_thread(client: AsyncWebClient, request: RequestView, message: Message) -> None:
    """A reply in the approval message's thread, if there is one."""
    if request.slack_channel and request.slack_ts:
        await _attempt(
            "reply in the approval thread",
            client.chat_postMessage(
                channel=request.slack_channel, thread_ts=request.slack_ts, **message.as_kwargs()
            ),
        )


async def direct(client: AsyncWebClient, user: str, message: Message) -> None:
    """A DM to a user (the app's Messages tab)."""
    await _attempt("DM a user", client.chat_postMessage(channel=user, **message.as_kwargs()))
