"""What the user reads when Meta refused or failed a call, or pixelbot refused a request."""

from __future__ import annotations

import math
import re

from slack_sdk.models.blocks import Block

from bot.flows.meta.errors import (
    GraphAuthError,
    GraphBlocked,
    GraphError,
    GraphPermissionError,
    GraphRateLimited,
    GraphTransientError,
)
from bot.flows.views import MetaFailed
from bot.slack.block_parts import user_text
from bot.slack.blocks import Message, _context, _section, escape

META_TEXT_LIMIT = 1000
UNCERTAIN = (
    "Meta did not answer in time, so it may or may not have done it. "
    "Nothing was recorded as done; trying again is safe."
)


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
        return "Meta had a temporary problem; try again in a minute."
    return f"Meta refused it: {meta}"  # GraphInvalidParameter and anything else


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
        sentence = UNCERTAIN
    elif isinstance(failure.error, GraphAuthError):
        # Which business must reconnect matters more than Meta's generic wording.
        sentence = _explain(failure)
    elif failure.error.error_user_msg:
        sentence = user_text(failure.error.error_user_msg, META_TEXT_LIMIT)
    else:
        sentence = _explain(failure)
    if failure.request is not None:
        check = " until pixelbot has checked it with Meta" if failure.uncertain else ""
        sentence += f" Request #{failure.request.id} is kept{check}."
    text = f":x: {sentence}"
    blocks: list[Block] = [_section(text)]
    codes = _codes(failure.error)
    if codes:
        blocks.append(_context(codes))
    return Message(text=text, blocks=blocks)


# The only markup our refusal sentences carry: mentions of the admins who can act.
_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]{2,20})&gt;")


def refusal_message(text: str) -> Message:
    """pixelbot said no. The sentence may quote names from Meta, so it is escaped; only the
    admin mentions we wrote are made live again."""
    line = ":no_entry_sign: " + _MENTION.sub(r"<@\1>", escape(text))
    return Message(text=line, blocks=[_section(line)])
