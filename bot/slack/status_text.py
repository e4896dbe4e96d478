"""Where a share request stands, in words: the status line and its lower-case phrase."""

from __future__ import annotations

from datetime import datetime

from bot.flows.states import IN_FLIGHT, ShareStatus
from bot.flows.views import RequestView
from bot.slack.block_parts import named, person, slack_time, user_text

TEXT_LIMIT = 1000  # notes and reasons are stored at most this long
_BUSY = {
    ShareStatus.SUBMITTING: "sent to Meta",
    ShareStatus.APPROVING: "approved",
    ShareStatus.DECLINING: "declined",
    ShareStatus.CANCELLING: "cancelled",
    ShareStatus.REVOKING: "removed",
}
_EMOJI = {
    ShareStatus.ACTIVE: ":white_check_mark:",
    ShareStatus.DECLINED: ":no_entry:",
    ShareStatus.CANCELLED: ":heavy_minus_sign:",
    ShareStatus.EXPIRED: ":hourglass:",
    ShareStatus.REVOKED: ":heavy_minus_sign:",
    ShareStatus.FAILED: ":x:",
    ShareStatus.PENDING: ":hourglass_flowing_sand:",
}


def request_status(req: RequestView) -> ShareStatus | None:
    """The request's status as our enum; None for a value this version does not know."""
    try:
        return ShareStatus(req.status)
    except ValueError:
        return None


def _at(when: datetime | None) -> str:
    return f" at {slack_time(when)}" if when else ""


def phrase(req: RequestView) -> str:
    """What became of the request, lower case, to follow "Request #N was already"."""
    status, at = request_status(req), _at(req.decided_at)
    by = f" by {person(req.decider)}" if req.decider else ""
    if status is ShareStatus.ACTIVE:
        if req.decider:
            return f"approved{by}{at}"
        if req.pending_request_id:
            return f"approved in Meta Business Settings{at}"
        return f"shared at once (Meta asked for no approval){at}"
    if status is ShareStatus.DECLINED:
        return f"declined{by}{at}" if by else f"declined in Meta Business Settings{at}"
    if status is ShareStatus.CANCELLED:
        return f"cancelled{by} (the owner withdrew it)" if by else f"cancelled in Meta{at}"
    if status is ShareStatus.EXPIRED:
        return "expired at Meta before anyone decided"
    if status is ShareStatus.REVOKED:
        return f"access removed{by}{at}"
    if status is ShareStatus.FAILED:
        return f"Meta refused: {user_text(req.error_message or 'no reason given', TEXT_LIMIT)}"
    if status is ShareStatus.PENDING:
        return f"waiting for an admin of {named(req.agency_name, req.agency_business_id)}"
    if status in _BUSY:
        return f"being {_BUSY[status]}{by}"
    return f"in state {user_text(req.status, 40)}"


def reason_line(req: RequestView, limit: int = TEXT_LIMIT) -> str:
    """The decline reason on its own line, escaped, or nothing."""
    return f"\nReason: {user_text(req.reason, limit)}" if req.reason else ""


def status_line(req: RequestView, reason_limit: int = TEXT_LIMIT) -> str:
    """One line (two with a decline reason) saying where the request stands."""
    status, text = request_status(req), phrase(req)
    if status in IN_FLIGHT:
        return f":arrows_counterclockwise: {text[0].upper()}{text[1:]}…"
    emoji = _EMOJI.get(status, ":grey_question:") if status else ":grey_question:"
    return f"{emoji} {text[0].upper()}{text[1:]}{reason_line(req, reason_limit)}"
