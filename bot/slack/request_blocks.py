"""Share requests in Slack: the approval card, its settled form, status lines, share/unshare."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    HeaderBlock,
    PlainTextObject,
)

from bot.flows.sharing import ShareOutcome
from bot.flows.states import IN_FLIGHT, ShareStatus
from bot.flows.unsharing import UnshareOutcome, UnsharePlan
from bot.flows.views import RequestView
from bot.slack.block_parts import ago, named, person, plain_named, slack_time, user_text
from bot.slack.blocks import Message, _context, _section, clip
from bot.slack.ids import Action
from bot.slack.status_text import TEXT_LIMIT, phrase, reason_line, request_status, status_line

__all__ = [
    "already_settled_message",
    "approval_message",
    "decision_buttons",
    "request_summary",
    "requester_dm",
    "settled_message",
    "share_result_message",
    "status_line",
    "thread_reply",
    "unshare_confirm_message",
    "unshare_done_message",
]

CONFIRM_TEXT_LIMIT = 300


def _pixel(req: RequestView) -> str:
    return named(req.pixel_name, req.pixel_id)


def _agency(req: RequestView) -> str:
    return named(req.agency_name, req.agency_business_id)


def _tasks(tasks: tuple[str, ...]) -> str:
    return user_text(", ".join(tasks), 200) or "no task"


def decision_buttons(req: RequestView) -> ActionsBlock:
    """Approve (with a confirm dialog) and Decline buttons carrying the request id."""
    confirm = ConfirmObject(
        title="Approve this request?",
        text=PlainTextObject(
            text=clip(
                f"Pixel {plain_named(req.pixel_name, req.pixel_id)} will be shared with "
                f"{plain_named(req.agency_name, req.agency_business_id)} "
                f"for {', '.join(req.tasks)}.",
                CONFIRM_TEXT_LIMIT,
            )
        ),
        confirm="Approve",
        deny="Cancel",
    )
    value = str(req.id)
    return ActionsBlock(
        block_id=f"request:{req.id}",
        elements=[
            ButtonElement(
                text="Approve",
                action_id=Action.APPROVE,
                value=value,
                style="primary",
                confirm=confirm,
            ),
            ButtonElement(text="Decline", action_id=Action.DECLINE, value=value, style="danger"),
        ],
    )


def request_summary(req: RequestView, now: datetime) -> str:
    """One mrkdwn paragraph about a request, for lists (pending, App Home)."""
    text = (
        f"*#{req.id}* {_pixel(req)} from {named(req.owner_name, req.owner_business_id)} "
        f"to {_agency(req)} · {_tasks(req.tasks)} · {person(req.requester)}, "
        f"{ago(req.created_at, now)}"
    )
    return text + (f"\n> {user_text(req.note, 200)}" if req.note else "")


def _facts(req: RequestView, now: datetime | None) -> list[Block]:
    asked = f"{person(req.requester)}" + (f", {ago(req.created_at, now)}" if now else "")
    lines = [
        f"*Pixel:* {_pixel(req)}",
        f"*Owner:* {named(req.owner_name, req.owner_business_id)}",
        f"*Agency:* {_agency(req)}",
        f"*Tasks:* {_tasks(req.tasks)}",
        f"*Requested by:* {asked}",
    ]
    if req.pending_request_id:
        lines.append(f"*Meta request:* `{user_text(req.pending_request_id, 100)}`")
    blocks: list[Block] = [HeaderBlock(text="Pixel sharing request"), _section("\n".join(lines))]
    if req.note:
        blocks.append(_section(f"*Note:* {user_text(req.note, TEXT_LIMIT)}"))
    blocks.append(_context(f"Request #{req.id} · opened {slack_time(req.created_at)}"))
    return blocks


def _fallback(req: RequestView) -> str:
    return f"Pixel sharing request #{req.id}: {_pixel(req)} to {_agency(req)}"


def approval_message(req: RequestView, now: datetime) -> Message:
    """The card agency admins decide on: the facts and Approve/Decline buttons."""
    text = f"{_fallback(req)}, requested by {person(req.requester)}"
    return Message(text=text, blocks=[*_facts(req, now), decision_buttons(req)])


def settled_message(req: RequestView) -> Message:
    """The card once decided: the same facts, no buttons, and what happened."""
    line = status_line(req)
    return Message(text=f"{_fallback(req)}: {line}", blocks=[*_facts(req, None), _section(line)])


def thread_reply(req: RequestView) -> Message:
    """A one-line reply in the card's thread."""
    line = status_line(req)
    return Message(text=line, blocks=[_section(line)])


def requester_dm(req: RequestView) -> Message:
    """Tell the requester what became of their request."""
    text = f"Your request #{req.id} to share pixel {_pixel(req)} with {_agency(req)}: "
    text += status_line(req)
    return Message(text=text, blocks=[_section(text)])


def already_settled_message(req: RequestView) -> Message:
    """A click that lost the race: who settled the request first, and that nothing changed."""
    status, text = request_status(req), phrase(req)
    if status in IN_FLIGHT:
        what = f"is {text} right now"
    elif status in (
        ShareStatus.ACTIVE,
        ShareStatus.DECLINED,
        ShareStatus.CANCELLED,
        ShareStatus.EXPIRED,
    ):
        what = f"was already {text}"
    elif status is ShareStatus.PENDING:
        what = "is still waiting for a decision"
    else:
        what = f"was already settled: {text}"
    text = f":information_source: Request #{req.id} {what}. Nothing was changed.{reason_line(req)}"
    return Message(text=text, blocks=[_section(text)])


def share_result_message(outcome: ShareOutcome, posted_to: str | None) -> Message:
    """Tell the requester what Meta did with the share, and who must act next."""
    req = outcome.request
    agency, meta = _agency(req), f"`{user_text(req.pending_request_id or '?', 100)}`"
    if request_status(req) is ShareStatus.ACTIVE:
        text = (
            f":white_check_mark: Pixel {_pixel(req)} is now shared with {agency} "
            f"for {_tasks(req.tasks)}."
        )
    elif request_status(req) is not ShareStatus.PENDING:
        text = status_line(req)
    elif posted_to:
        text = (
            f":hourglass_flowing_sand: Meta opened request {meta}; it waits for the admins "
            f"of {agency} in <#{posted_to}>."
        )
    elif outcome.approvals_channel:
        text = (
            f":warning: Meta opened request {meta}, but pixelbot could not post it in "
            f"<#{outcome.approvals_channel}> (is the bot in that channel? `/invite @pixelbot`). "
            f"The admins of {agency} can still decide it with `/pixel pending`."
        )
    elif not outcome.agency_registered:
        text = (
            f":hourglass_flowing_sand: Meta opened request {meta}. {agency} is not connected "
            f"to pixelbot, so nobody can approve it here: an admin of {agency} must accept it "
            "in Meta Business Settings (Business settings > Requests). pixelbot keeps "
            f"request #{req.id} and will notice the decision."
        )
    else:
        text = (
            f":hourglass_flowing_sand: Meta opened request {meta}. {agency} has no approvals "
            "channel configured in pixelbot, so its admins can find it with `/pixel pending`, "
            "or accept it in Meta Business Settings (Business settings > Requests)."
        )
    return Message(text=text, blocks=[_section(text), _context(f"Request #{req.id}")])


def unshare_confirm_message(plan: UnsharePlan) -> Message:
    """What `/pixel unshare` is about to do, with buttons to go ahead or keep it."""
    pixel, agency = named(plan.pixel_name, plan.pixel_id), named(plan.agency_name, plan.agency_id)
    steps = []
    if plan.shared:
        steps.append(f"• Remove the access of {agency} to pixel {pixel}")
    if plan.pending is not None:
        meta = user_text(plan.pending.pending_request_id or "?", 100)
        steps.append(f"• Cancel pending request #{plan.pending.id} (Meta request `{meta}`)")
    text = "*This will:*\n" + "\n".join(steps)
    buttons = ActionsBlock(
        elements=[
            ButtonElement(
                text="Remove access" if plan.shared else "Cancel the request",
                action_id=Action.UNSHARE_CONFIRM,
                value=f"{plan.pixel_id}:{plan.agency_id}",
                style="danger",
            ),
            ButtonElement(text="Keep it", action_id=Action.UNSHARE_ABORT),
        ]
    )
    return Message(text=f"Unshare pixel {pixel} from {agency}?", blocks=[_section(text), buttons])


def unshare_done_message(outcome: UnshareOutcome, plan_name: str | None = None) -> Message:
    """What the unshare did: requests cancelled, access removed."""
    pixel = named(plan_name or outcome.pixel_name, outcome.pixel_id)
    first = outcome.requests[0] if outcome.requests else None
    agency_name = outcome.agency_name or (first.agency_name if first else None)
    agency = named(agency_name, outcome.agency_id)
    lines = []
    for req in outcome.requests:
        if request_status(req) is ShareStatus.CANCELLED:
            lines.append(f":heavy_minus_sign: Cancelled pending request #{req.id}.")
        elif request_status(req) is ShareStatus.REVOKED:
            lines.append(f":heavy_minus_sign: Removed the access of {agency} (request #{req.id}).")
        elif request_status(req) is ShareStatus.PENDING and req.attention:
            lines.append(f":warning: Request #{req.id}: {user_text(req.attention, 300)}")
        else:
            lines.append(f"Request #{req.id}: {status_line(req)}")
    if not any(request_status(r) is ShareStatus.REVOKED for r in outcome.requests):
        none = "" if outcome.requests else " pixelbot had no request on record for it."
        lines.append(f":white_check_mark: {agency} has no access to it at Meta now.{none}")
    text = f"Pixel {pixel} and {agency}:\n" + "\n".join(lines)
    return Message(text=text, blocks=[_section(text)])
