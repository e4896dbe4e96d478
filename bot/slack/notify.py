"""Direct messages that are not part of a request's state (an interrupted click, a request
that needs a human). Best effort: a failed call is logged and never undoes what happened.

What a request's state shows in Slack (its card, thread, the requester's DM, reminders) is
not sent from here: the Slack sync (`bot.slack.sync`) delivers it until Slack has it.
"""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import Message

log = logging.getLogger(__name__)

SlackFailure = (SlackApiError, SlackClientError, OSError, TimeoutError)


async def direct(client: AsyncWebClient, user: str, message: Message) -> None:
    """A DM to a user (the app's Messages tab)."""
    try:
        await client.chat_postMessage(channel=user, **message.as_kwargs())
    except SlackFailure as exc:
        log.warning("could not DM a user: %s", exc)
