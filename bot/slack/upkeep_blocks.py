"""Messages of the upkeep pass: reminders, interrupted clicks, requests needing a human."""

from __future__ import annotations

from datetime import datetime

from bot.flows.reminding import Reminder
from bot.flows.states import ShareStatus
from bot.flows.views import RequestView
from bot.slack.block_parts import age, named
from bot.slack.blocks import Message, _section
from bot.slack.status_text import request_status, status_line

# A claim, and the state it leads to when Meta applied it / when Meta never got it.
_CLAIM_ENDS = {
    ShareStatus.APPROVING: (ShareStatus.ACTIVE, ShareStatus.PENDING),
    ShareStatus.DECLINING: (ShareStatus.DECLINED, ShareStatus.PENDING),
    ShareStatus.CANCELLING: (ShareStatus.CANCELLED, ShareStatus.PENDING),
    ShareStatus.REVOKING: (ShareStatus.REVOKED, ShareStatus.ACTIVE),
}


def _request(req: RequestView) -> str:
    pixel = named(req.pixel_name, req.pixel_id)
    agency = named(req.agency_name, req.agency_business_id)
    return f"request #{req.id} to share pixel {pixel} with {agency}"


def reminder_message(reminder: Reminder, now: datetime) -> Message:
    """A thread reply nudging the agency's admins (or the operator, when it has none)."""
    req = reminder.request
    who = " ".join(f"<@{a}>" for a in reminder.admins) or "No admin of this agency is set up"
    text = (
        f":alarm_clock: Reminder {reminder.number}: this request has waited "
        f"{age(req.created_at, now)}. {who}: please approve or decline it."
    )
    return Message(text=text, blocks=[_section(text)])


def attention_message(req: RequestView) -> Message:
    """To the requester and an owner admin: an interrupted step Meta cannot account for."""
    why = req.attention or "Meta could not say what happened"
    text = (
        f":rotating_light: pixelbot was interrupted while working on {_request(req)} "
        f"({req.status}), and cannot tell what Meta did: {why}. Please check it in Meta "
        "Business Settings; pixelbot keeps the request and will not repeat the call."
    )
    return Message(text=text, blocks=[_section(text)])


def watcher_message(req: RequestView, claim: str | None) -> Message:
    """To whoever started a change that was still at Meta when they last heard of it."""
    status = request_status(req)
    done, undone = _CLAIM_ENDS[ShareStatus(claim)] if claim in _CLAIM_ENDS else (None, None)
    pixel, agency = (
        named(req.pixel_name, req.pixel_id),
        named(req.agency_name, req.agency_business_id),
    )
    if status is None:
        text = f"{_request(req)[0].upper()}{_request(req)[1:]}: {status_line(req)}"
    elif status is done:
        text = f"Your change to {_request(req)} went through. {status_line(req)}"
    elif status is undone and done is ShareStatus.REVOKED:
        text = (
            f":warning: Your removal of {agency}'s access never reached Meta: pixel {pixel} is "
            f"still shared with {agency}, so you can remove it again."
        )
    elif status is undone and done is ShareStatus.CANCELLED:
        text = (
            f":warning: Your withdrawal of {_request(req)} was interrupted before it reached "
            "Meta. The request is still pending, so you can withdraw it again."
        )
    elif status is undone:
        text = (
            f":warning: Your decision on {_request(req)} was interrupted before it reached "
            "Meta. Nothing was decided: the request is still pending, so you can decide it again."
        )
    else:  # decided otherwise, elsewhere, meanwhile
        text = f"{_request(req)[0].upper()}{_request(req)[1:]}, which you were changing: "
        text += status_line(req)
    return Message(text=text, blocks=[_section(text)])
