"""A use-case run for any surface, then what it decided delivered in Slack.

Commands, buttons and modals reach the same use-case through these, so a rule such as
"a pending request gets an approval message" is written once.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.web.async_client import AsyncWebClient

from bot.flows import deciding, sharing
from bot.flows.meta.types import Decision
from bot.slack.blocks import Message
from bot.slack.notify import announce, post_approval
from bot.slack.request_blocks import share_result_message
from bot.slack.services import Services


async def share_and_post(
    services: Services,
    client: AsyncWebClient,
    user: str,
    pixel_id: str,
    agency_id: str,
    tasks: Sequence[str],
    note: str | None = None,
) -> Message:
    """Share at Meta, post the approval message where the domain says, and say what happened."""
    outcome = await sharing.share(services.flows, user, pixel_id, agency_id, tasks, note)
    channel = outcome.approval_channel
    posted = None
    if channel is not None:
        posted = await post_approval(client, services.flows, outcome.request, channel)
    return share_result_message(outcome, posted)


async def decide_and_announce(
    services: Services,
    client: AsyncWebClient,
    user: str,
    request_id: int,
    decision: Decision,
    reason: str | None = None,
) -> None:
    """Decide at Meta, then tell the channel, the thread and the requester."""
    outcome = await deciding.decide(services.flows, user, request_id, decision, reason)
    await announce(client, outcome.requests, user)
