"""A use-case run for any surface, then what it decided delivered in Slack.

Commands, buttons and modals reach the same use-case through these, so a rule such as
"a pending request gets an approval message" is written once. The rows the use-case
changed are marked for the Slack sync; these deliver them at once, and the sync keeps
trying whatever Slack did not take.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.flows import announcing, deciding, sharing
from bot.flows.meta.types import Decision
from bot.flows.states import ShareStatus
from bot.flows.views import AlreadySettled
from bot.slack.blocks import Message, _context
from bot.slack.request_blocks import share_result_message
from bot.slack.services import Services

SLACK_LAGS = (
    ":hourglass: Slack is not taking messages right now; pixelbot keeps trying and will post "
    "the approval message as soon as it does."
)


async def share_and_post(
    services: Services,
    user: str,
    pixel_id: str,
    agency_id: str,
    tasks: Sequence[str],
    note: str | None = None,
) -> Message:
    """Share at Meta, post the approval message where the domain says, and say what happened."""
    outcome = await sharing.share(services.flows, user, pixel_id, agency_id, tasks, note)
    if outcome.approval_channel is None:
        return share_result_message(outcome, None)
    card = await services.work.sync.post_card_now(outcome.request.id)
    if card.delayed:
        message = share_result_message(outcome, outcome.approval_channel)
        return Message(message.text, [*message.blocks, _context(SLACK_LAGS)])
    return share_result_message(outcome, card.channel)


async def decide_and_announce(
    services: Services,
    user: str,
    request_id: int,
    decision: Decision,
    reason: str | None = None,
) -> None:
    """Decide at Meta, then bring the card and its thread up to date.

    A click on a request that is settled already redraws its card: what the clicker saw
    was stale."""
    try:
        outcome = await deciding.decide(services.flows, user, request_id, decision, reason)
    except AlreadySettled as exc:
        # Settled (not merely being decided by another click): what the clicker saw was stale.
        settled = announcing.card_state(ShareStatus(exc.request.status)) is not ShareStatus.PENDING
        if settled:
            await announcing.redraw(services.flows, exc.request.id)
            await services.work.sync.deliver([exc.request.id])
        raise
    await services.work.sync.deliver([r.id for r in outcome.requests])
