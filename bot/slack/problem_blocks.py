"""What the user reads when Meta refused or failed a call, or pixelbot refused a request."""

from __future__ import annotations

import math

from slack_sdk.models.blocks import Block

from bot.errors import Conflict, NotFound, PixelbotError
from bot.flows.access import NoBusiness, NotAdmin, NotConnected, Refused
from bot.flows.accounts import NoPixelAccess
from bot.flows.meta.errors import (
    GraphAnswerUnclear,
    GraphAuthError,
    GraphBlocked,
    GraphConnectError,
    GraphConnectionLost,
    GraphError,
    GraphPermissionError,
    GraphRateLimited,
    GraphTimeout,
    GraphTransientError,
)
from bot.flows.states import ShareStatus
from bot.flows.views import AlreadyOpen, MetaFailed
from bot.slack.block_parts import named, person, user_text
from bot.slack.blocks import Message, _context, _section, escape, usage_message
from bot.slack.status_text import request_status

META_TEXT_LIMIT = 1000
# What the call that lost its answer was about, by the state its request was left in.
_WHAT = {
    ShareStatus.SUBMITTING: "the share",
    ShareStatus.APPROVING: "the approval",
    ShareStatus.DECLINING: "the decline",
    ShareStatus.CANCELLING: "the cancellation",
    ShareStatus.REVOKING: "the removal",
}


def _minutes(retry_after: float | None) -> str:
    if retry_after is None or retry_after <= 0:
        return "a few minutes"
    minutes = math.ceil(retry_after / 60)
    return "about 1 minute" if minutes == 1 else f"about {minutes} minutes"


def _explain(failure: MetaFailed) -> str:
    """One sentence per kind of Graph error, naming the business whose token was used."""
    error, ident = failure.error, failure.business_id
    name = user_text(failure.business_name, 200)
    meta = user_text(error.message, META_TEXT_LIMIT)
    if isinstance(error, GraphAuthError):
        return (
            f"The Meta token of {name} ({ident}) has expired or was revoked. An operator must "
            f"reconnect it: `pixelbot business add {ident} --name NAME --token-stdin --replace`."
        )
    if isinstance(error, GraphPermissionError):
        return f"{name}'s Meta token lacks a permission this needs (Meta: {meta})."
    if isinstance(error, GraphRateLimited):
        return (
            f"Meta is limiting calls for {name} right now; "
            f"try again in {_minutes(error.retry_after)}."
        )
    if isinstance(error, GraphBlocked):
        return (
            f"Meta has temporarily blocked this kind of call for {name}; "
            "wait a while before trying again."
        )
    if isinstance(error, GraphTransientError):
        return f"{_capital(_fact(error))}; try again in a minute."
    return f"Meta refused it: {meta}"  # GraphInvalidParameter and anything else


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fact(error: GraphError) -> str:
    """What went wrong on the way to Meta or back, as it happened: never a timeout that wasn't."""
    status = error.http_status
    if isinstance(error, GraphConnectError):
        return "Meta could not be reached, so nothing was sent"
    if isinstance(error, GraphConnectionLost):
        return "the connection to Meta broke before Meta answered"
    if isinstance(error, GraphAnswerUnclear) or (error.code is None and status is not None):
        if status is not None and status >= 500:
            return f"Meta answered with a server error (HTTP {status})"
        return f"Meta's answer{f' (HTTP {status})' if status else ''} could not be read"
    if isinstance(error, GraphTimeout):
        if error.waited:
            return f"Meta did not answer within {error.waited:g} s"
        return "Meta did not answer in time"
    if error.code is None:
        return "the call to Meta failed on the way"
    return "Meta had a temporary problem"


def _uncertain(failure: MetaFailed) -> str:
    """Meta may have done it: what happened, and what pixelbot does next (nothing twice)."""
    error, req = failure.error, failure.request
    status = request_status(req) if req is not None else None
    answered = isinstance(error, GraphAnswerUnclear) or error.http_status is not None
    unsaid = " and did not say whether it applied the change" if answered else ""
    what = _WHAT.get(status, "it") if status is not None else "it"
    sentence = f"{_capital(_fact(error))}{unsaid}, so {what} may or may not have happened."
    if req is None:
        return f"{sentence} Nothing was recorded as done; trying again is safe."
    if status is ShareStatus.SUBMITTING:
        # Recovery finds it at Meta (pending or shared) or marks it failed; the row blocks a
        # second share meanwhile, so "try again" would only be refused.
        pixel, agency = escape(req.pixel_id), named(req.agency_name, req.agency_business_id)
        return (
            f"{sentence} Request #{req.id} is kept, and pixelbot will check it with Meta "
            "instead of sending it twice, then DM you how it ended: if Meta has it, it goes on "
            "from there; if not, it is marked failed and you can share again. Until then a new "
            "share of this pixel with "
            f"{agency} is refused; `/pixel history {pixel}` shows what pixelbot finds."
        )
    if status in (ShareStatus.APPROVING, ShareStatus.DECLINING):
        return (
            f"{sentence} Request #{req.id} stays claimed until pixelbot has checked it with "
            "Meta (a decision is never sent twice): if Meta did it, the request's message and "
            "its requester are updated as usual; if not, you are told and can decide again."
        )
    if status in (ShareStatus.REVOKING, ShareStatus.CANCELLING):
        return (
            f"{sentence} Request #{req.id} stays claimed until pixelbot has checked it with "
            "Meta (a removal is never sent twice), and you get a DM saying how it ended."
        )
    return f"{sentence} Request #{req.id} is kept until pixelbot has checked it with Meta."


def _codes(error: GraphError) -> str:
    parts = []
    if error.code is not None:
        sub = f"/{error.error_subcode}" if error.error_subcode is not None else ""
        parts.append(f"Meta error #{error.code}{sub}")
    if error.fbtrace_id:
        parts.append(f"fbtrace_id `{user_text(error.fbtrace_id, 100)}`")
    return " · ".join(parts)


def meta_failed_message(failure: MetaFailed) -> Message:
    """Meta refused or did not answer: why, what to do, and Meta's codes to quote."""
    if failure.uncertain:
        sentence = _uncertain(failure)
    elif isinstance(failure.error, GraphAuthError):
        # Which business must reconnect matters more than Meta's generic wording.
        sentence = _explain(failure)
    elif failure.error.error_user_msg:
        sentence = user_text(failure.error.error_user_msg, META_TEXT_LIMIT)
    else:
        sentence = _explain(failure)
    if failure.request is not None and not failure.uncertain:
        sentence += f" Request #{failure.request.id} is kept."
    text = f":x: {sentence}"
    blocks: list[Block] = [_section(text)]
    codes = _codes(failure.error)
    if codes:
        blocks.append(_context(codes))
    return Message(text=text, blocks=blocks)


def refusal_message(text: str) -> Message:
    """pixelbot said no. The sentence may quote names from Meta, so all of it is escaped."""
    return _refusal(escape(text))


def _refusal(markdown: str) -> Message:
    line = f":no_entry_sign: {markdown}"
    return Message(text=line, blocks=[_section(line)])


def not_admin_message(refusal: NotAdmin) -> Message:
    """Who may do it instead: the admins as live mentions, or how an operator adds one."""
    name, ident = escape(refusal.business_name), escape(refusal.business_id)
    if refusal.admins:
        mentions = ", ".join(person(admin) for admin in refusal.admins)
        who = f"Only admins of {name} ({ident}) can do that: {mentions}."
    else:
        who = (
            f"{name} ({ident}) has no admins in pixelbot yet; an operator can add one "
            f"with `pixelbot admin grant USER_ID {ident}`."
        )
    if refusal.own_request:
        who = f"You asked for this share yourself, so someone else must decide it. {who}"
    return _refusal(who)


def refusal_for(error: PixelbotError) -> Message | None:
    """The Slack words for a refusal that carries data; None when `error` is not one."""
    if isinstance(error, NotAdmin):
        return not_admin_message(error)
    if isinstance(error, NoBusiness):
        return _refusal(
            "You are not an admin of any business connected to pixelbot; ask an operator to "
            f"run `pixelbot admin grant {escape(error.user)} BUSINESS_ID`."
        )
    if isinstance(error, NotConnected) and error.pixel_id is None:
        return _refusal(
            f"{escape(str(error))}; an operator can add it with `pixelbot business add`"
        )
    if isinstance(error, AlreadyOpen):
        command = f"/pixel unshare {error.pixel_id} {error.agency_id}"
        return _refusal(f"{escape(str(error))}; `{escape(command)}` cancels it")
    if isinstance(error, NoPixelAccess):
        command = f"/pixel share {error.pixel_id} {error.business_id} ADVERTISE"
        return usage_message(f"{error} Share the pixel first: `{command}`", None)
    if isinstance(error, Refused | NotConnected | NotFound | Conflict):
        return refusal_message(str(error))
    return None
