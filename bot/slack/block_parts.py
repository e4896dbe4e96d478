"""Small pure pieces shared by the Block Kit builders: times, names, people, long text."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

from slack_sdk.models.blocks import Block

from bot.slack.blocks import SECTION_TEXT_LIMIT, _section, clip, escape

MESSAGE_BLOCKS = 50  # Slack's limit per message; slack_sdk does not check it
VIEW_BLOCKS = 100
NAME_LIMIT = 200
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")


def _utc(dt: datetime) -> datetime:
    # Rows read from SQLite come back naive; pixelbot stores UTC.
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def slack_time(dt: datetime) -> str:
    """A timestamp each reader sees in their own time zone (UTC as the fallback)."""
    ts = _utc(dt)
    return f"<!date^{int(ts.timestamp())}^{{date_short_pretty}} {{time}}|{ts:%Y-%m-%d %H:%M} UTC>"


def age(created: datetime, now: datetime) -> str:
    """How long ago `created` was: "just now", "5 min", "3 h", "2 days"."""
    seconds = int((_utc(now) - _utc(created)).total_seconds())
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    days = seconds // 86400
    return "1 day" if days == 1 else f"{days} days"


def ago(created: datetime, now: datetime) -> str:
    """`age` as a phrase: "just now" or "5 min ago"."""
    text = age(created, now)
    return text if text == "just now" else f"{text} ago"


def person(actor: str) -> str:
    """A Slack user id as a mention; anything else ("operator", "meta") as inert text."""
    return f"<@{actor}>" if _SLACK_USER.fullmatch(actor) else escape(clip(actor, NAME_LIMIT))


def named(name: str | None, ident: str) -> str:
    """`*Name* (`id`)` in mrkdwn, the name escaped; just the id when there is no name."""
    code = f"`{escape(ident)}`"
    return f"*{escape(clip(name, NAME_LIMIT))}* ({code})" if name else code


def plain_named(name: str | None, ident: str) -> str:
    """`Name (id)` for plain_text fields, where nothing needs escaping."""
    return f"{clip(name, NAME_LIMIT)} ({ident})" if name else ident


def user_text(text: str, limit: int) -> str:
    """User or Meta text made inert, clipped before escaping so no entity is cut."""
    return escape(clip(text, limit))


def more(shown: int, total: int) -> str:
    """The tail of a cut list ("and K more"), or nothing."""
    return f" and {total - shown} more" if total > shown else ""


def sections(lines: Iterable[str], limit: int = SECTION_TEXT_LIMIT) -> list[Block]:
    """Lines packed into as few sections as fit Slack's 3000-char section limit."""
    blocks: list[Block] = []
    chunk = ""
    for line in lines:
        line = clip(line, limit)
        if chunk and len(chunk) + 1 + len(line) > limit:
            blocks.append(_section(chunk))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(_section(chunk))
    return blocks


def fit(blocks: list[Block], limit: int = MESSAGE_BLOCKS) -> list[Block]:
    """At most `limit` blocks; a safety net, builders are meant to stay under it."""
    return blocks[:limit]
