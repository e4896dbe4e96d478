"""Messages about acknowledged work itself: resumed after a restart, given up, not recorded."""

from __future__ import annotations

from collections.abc import Sequence

from bot.flows.views import RequestView
from bot.slack.block_parts import named
from bot.slack.blocks import Message, _section
from bot.slack.ids import Action, Callback
from bot.slack.status_text import status_line

# Job names: the subcommand, the button's action_id or the form's callback_id.
_WHAT = {
    "share": "your share",
    Callback.SHARE.value: "your share",
    Action.UNSHARE_CONFIRM.value: "your unshare",
    Action.APPROVE.value: "your approval",
    Callback.DECLINE.value: "your decline",
    "link": "your link",
    "unlink": "your unlink",
}
_DECIDING = frozenset({Action.APPROVE.value, Callback.DECLINE.value})
_SHARING = frozenset({"share", Callback.SHARE.value})


def _what(name: str) -> str:
    return _WHAT.get(name, "your request")


def resumed_message(name: str, requests: Sequence[RequestView]) -> Message:
    """To the user of a job a restart interrupted: where each request it touched stands now.

    What was at Meta when the process stopped is finished by pixelbot's crash recovery
    (Meta is asked what happened; nothing is sent twice), and the requester is told the end.
    """
    lines = [
        f"• Request #{r.id} (pixel {named(r.pixel_name, r.pixel_id)} with "
        f"{named(r.agency_name, r.agency_business_id)}): {status_line(r)}"
        for r in requests
    ]
    if name in _SHARING:
        later = "you will get a DM here when it ends"
    elif name in _DECIDING:
        later = "the approval message will show how it ended"
    else:
        later = "`/pixel history` will show how it ended"
    text = (
        f":arrows_counterclockwise: pixelbot was restarted while it worked on {_what(name)}. "
        "Nothing is done twice; where it stands now:\n" + "\n".join(lines) + "\n"
        f"Anything still in progress is checked with Meta, and {later}."
    )
    return Message(text=text, blocks=[_section(text)])


def gave_up_message(name: str) -> Message:
    """To the user of a job that could not be finished after several tries."""
    text = (
        f":x: pixelbot could not finish {_what(name)}: it was interrupted several times. "
        "Nothing more will be done for it. Check `/pixel history` to see what happened, "
        "and try again."
    )
    return Message(text=text, blocks=[_section(text)])


def unrecorded_message() -> Message:
    """The ack when the database did not take the job: nothing was started."""
    text = (
        ":warning: pixelbot could not record this (its database did not answer), so it did "
        "nothing. Please try again in a minute."
    )
    return Message(text=text, blocks=[_section(text)])
