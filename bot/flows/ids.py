"""Validation of the identifiers users type, before anything reaches the database or Meta."""

from __future__ import annotations

import re

from bot.errors import InvalidInput

_META_ID = re.compile(r"[0-9]{1,20}")
_DIGITS = re.compile(r"[0-9]+")
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,20}")
_SLACK_CHANNEL = re.compile(r"[CG][A-Z0-9]{2,20}")


def meta_id(value: str, what: str = "id") -> str:
    """A Meta object id: digits only (it goes into Graph paths, so nothing else may pass)."""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be a number (digits only)")
    if _META_ID.fullmatch(value):
        return value
    if _DIGITS.fullmatch(value):
        # All digits, yet refused: say why, or "digits only" reads as nonsense.
        raise InvalidInput(f"{what} is {len(value)} digits long; Meta ids have at most 20")
    raise InvalidInput(f"{what} must be a number (digits only), got {_shown(value)}")


def slack_user_id(value: str) -> str:
    """A Slack user id such as U0123ABCD."""
    if not _SLACK_USER.fullmatch(value):
        raise InvalidInput(f"Slack user id must look like U0123ABCD, got {_shown(value)}")
    return value


def slack_channel_id(value: str) -> str:
    """A Slack channel id such as C0123ABCD (public) or G0123ABCD (private)."""
    if not _SLACK_CHANNEL.fullmatch(value):
        raise InvalidInput(f"Slack channel id must look like C0123ABCD, got {_shown(value)}")
    return value


def _shown(value: str) -> str:
    """The offending value, quoted and cut short so errors stay one readable line."""
    text = value if len(value) <= 40 else value[:40] + "…"
    return repr(text)
