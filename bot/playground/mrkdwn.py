"""Slack text as safe HTML for the playground page: mrkdwn, plain_text, dates and emoji.

Pure functions of their arguments. Whatever the text holds comes out inert: every piece of
it goes through `html.escape` exactly once, and the only markup is the tags written here.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import UTC, datetime

__all__ = [
    "EMOJI",
    "Channels",
    "Users",
    "date_html",
    "emojize",
    "link_html",
    "mrkdwn",
    "plain",
    "slack_unescape",
]

Users = Mapping[str, str]  # Slack user id -> display name
Channels = Mapping[str, str]  # channel id -> name (without '#')

# Every shortcode pixelbot writes (bot/slack, bot/flows), then common ones people expect.
# The few that look like letters or signs are spelled as escapes (ruff's RUF001).
EMOJI: Mapping[str, str] = {
    "alarm_clock": "⏰", "arrows_counterclockwise": "🔄", "grey_question": "❔",
    "heavy_minus_sign": "\u2796", "hourglass": "⌛", "hourglass_flowing_sand": "⏳",
    "information_source": "\u2139\ufe0f", "no_entry": "⛔", "no_entry_sign": "🚫",
    "rotating_light": "🚨", "test_tube": "🧪", "warning": "⚠️", "white_check_mark": "✅",
    "x": "❌",
    "+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎", "ok_hand": "👌",
    "clap": "👏", "pray": "🙏", "wave": "👋", "raised_hands": "🙌", "muscle": "💪",
    "point_right": "👉", "point_left": "👈", "point_up": "👆", "point_down": "👇",
    "eyes": "👀", "smile": "😄", "smiley": "😃", "grinning": "😀", "slightly_smiling_face": "🙂",
    "wink": "😉", "blush": "😊", "joy": "😂", "sweat_smile": "😅", "sunglasses": "😎",
    "thinking_face": "🤔", "neutral_face": "😐", "confused": "😕", "disappointed": "😞",
    "slightly_frowning_face": "🙁", "cry": "😢", "sob": "😭", "scream": "😱",
    "upside_down_face": "🙃", "heart_eyes": "😍", "see_no_evil": "🙈", "robot_face": "🤖",
    "skull": "💀", "ghost": "👻", "heart": "❤️", "tada": "🎉", "fire": "🔥", "rocket": "🚀",
    "sparkles": "✨", "star": "⭐", "zap": "⚡", "boom": "💥", "100": "💯", "bulb": "💡",
    "trophy": "🏆", "heavy_check_mark": "✔️", "ballot_box_with_check": "☑️",
    "heavy_plus_sign": "\u2795", "heavy_multiplication_x": "✖️", "question": "❓",
    "exclamation": "❗", "grey_exclamation": "❕", "bangbang": "‼️", "red_circle": "🔴",
    "large_green_circle": "🟢", "large_yellow_circle": "🟡", "large_orange_circle": "🟠",
    "large_blue_circle": "🔵", "white_circle": "⚪", "black_circle": "⚫",
    "stop_sign": "🛑", "octagonal_sign": "🛑", "construction": "🚧",
    "checkered_flag": "🏁", "triangular_flag_on_post": "🚩", "memo": "📝", "pencil2": "✏️",
    "lock": "🔒", "unlock": "🔓", "key": "🔑", "bell": "🔔", "no_bell": "🔕", "mag": "🔍",
    "link": "🔗", "gear": "⚙️", "wrench": "🔧", "hammer": "🔨", "hammer_and_wrench": "🛠️",
    "package": "📦", "date": "📅", "calendar": "📆", "stopwatch": "⏱️", "timer_clock": "⏲️",
    "chart_with_upwards_trend": "📈", "chart_with_downwards_trend": "📉", "bar_chart": "📊",
    "email": "📧", "envelope": "✉️", "inbox_tray": "📥", "outbox_tray": "📤",
    "arrow_right": "➡️", "arrow_left": "⬅️", "arrow_up": "⬆️", "arrow_down": "⬇️",
    "repeat": "🔁", "recycle": "♻️", "bust_in_silhouette": "👤", "busts_in_silhouette": "👥",
    "speech_balloon": "💬", "loudspeaker": "📢", "mega": "📣", "pushpin": "📌",
    "paperclip": "📎", "clipboard": "📋", "file_folder": "📁", "page_facing_up": "📄",
    "moneybag": "💰", "shield": "🛡️", "globe_with_meridians": "🌐", "computer": "💻",
    "new": "🆕", "ok": "🆗", "sos": "🆘", "label": "🏷️", "bookmark": "🔖", "books": "📚",
}  # fmt: skip

_EMOJI_CODE = re.compile(
    ":(" + "|".join(re.escape(name) for name in sorted(EMOJI, key=len, reverse=True)) + "):"
)
_SLACK_ENTITY = re.compile("&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_HOLE = re.compile("\x00(\\d+)\x00")  # a stand-in for HTML already made safe
_TOKEN = re.compile(r"<([^<>\s][^<>\n]*)>")  # Slack's <...>: links, mentions, dates
_PRE = re.compile(r"```\n?(.*?)\n?```", re.DOTALL)
_CODE = re.compile(r"`([^`\n]+)`")
_SCHEMES = ("http://", "https://", "mailto:")
_BROADCASTS = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DATE_TOKEN = re.compile(r"\{(\w+)\}")


def _style(mark: str) -> re.Pattern[str]:
    # Slack's rule: the marks hug the text (no space inside) and stand outside words, so
    # snake_case and 2*3*4 stay as they are; another mark may touch them (_*both*_).
    m = re.escape(mark)
    edge = rf"[^\W_]|{m}"  # a letter or digit, or the same mark
    return re.compile(rf"(?<!{edge}){m}([^{m}\s](?:[^{m}\n]*[^{m}\s])?){m}(?!{edge})")


_STYLES = ((_style("*"), "b"), (_style("_"), "i"), (_style("~"), "s"))


def slack_unescape(text: str) -> str:
    """Undo Slack's own escaping of `&`, `<`, `>` (and nothing else), in one pass."""
    return _SLACK_ENTITY.sub(lambda m: _ENTITIES[m[1]], text)


def emojize(text: str) -> str:
    """Known `:shortcodes:` as Unicode emoji; unknown ones stay as typed."""
    return _EMOJI_CODE.sub(lambda m: EMOJI[m[1]], text)


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", "<br>")


def plain(text: str) -> str:
    """plain_text as HTML: escaped, emoji shortcodes replaced, newlines as <br>."""
    return _lines(emojize(html.escape(text)))


def mrkdwn(text: str, users: Users, channels: Channels) -> str:
    """Slack mrkdwn as HTML: styles, code, quotes, links, mentions, dates and emoji."""
    held: list[str] = []

    def hold(safe: str) -> str:
        held.append(safe)
        return f"\x00{len(held) - 1}\x00"

    def fill(safe: str) -> str:
        return _HOLE.sub(lambda m: held[int(m[1])], safe)

    def inert(raw: str) -> str:
        # Code: Slack's escapes undone, then HTML-escaped; links and mentions inside stay.
        return fill(html.escape(slack_unescape(raw)))

    # Tokens first, from the raw text, so a stand-in can never land inside an attribute;
    # then code, whose content no later step (emoji, styles, quotes) may touch.
    text = text.replace("\x00", "\ufffd").replace("\r\n", "\n")
    text = _TOKEN.sub(lambda m: hold(_token(m[1], users, channels)), text)
    text = _PRE.sub(lambda m: hold(f'<pre class="bk-pre">{inert(m[1])}</pre>'), text)
    text = _CODE.sub(lambda m: hold(f'<code class="bk-code">{inert(m[1])}</code>'), text)
    text = emojize(html.escape(slack_unescape(text)))
    for pattern, tag in _STYLES:
        text = pattern.sub(rf"<{tag}>\1</{tag}>", text)
    return fill(_quotes(text.split("\n")))


def _quotes(lines: list[str]) -> str:
    """Lines joined by <br>; runs of `>` lines (or all after `>>>`) as one <blockquote>."""
    parts: list[str] = []
    quoted: list[str] = []
    rest_quoted = False
    for line in lines:
        # The text is escaped by now: a quote mark reads `&gt;`, typed as `>` or `&gt;`.
        if not rest_quoted and line.startswith("&gt;&gt;&gt;"):
            rest_quoted, line = True, line[12:].removeprefix(" ")
        elif not rest_quoted and line.startswith("&gt;"):
            line = line[4:].removeprefix(" ")
        elif not rest_quoted:
            if quoted:
                parts.append(f'<blockquote class="bk-quote">{"<br>".join(quoted)}</blockquote>')
                quoted = []
            parts.append(line + "<br>")
            continue
        quoted.append(line)
    if quoted:
        parts.append(f'<blockquote class="bk-quote">{"<br>".join(quoted)}</blockquote>')
    # A blockquote starts its own line: no <br> just before it or at the very end.
    return "".join(parts).replace("<br><blockquote", "<blockquote").removesuffix("<br>")


def _token(inner: str, users: Users, channels: Channels) -> str:
    """One `<...>` of Slack's: a mention, a channel, a broadcast, a date or a link."""
    body, _, label = inner.partition("|")
    label = slack_unescape(label)
    if body.startswith("@"):
        return _span("bk-mention", "@" + (users.get(body[1:]) or label or body[1:]))
    if body.startswith("#"):
        return _span("bk-channel", "#" + (channels.get(body[1:]) or label or body[1:]))
    if body.startswith("!date^"):
        head = body.split("^")
        stamp, form = (head[1], head[2]) if len(head) > 2 else ("", "")
        return date_html(stamp, slack_unescape(form), label)
    if body.startswith("!"):
        name, _, group = body[1:].partition("^")
        if name in _BROADCASTS:
            return _span("bk-mention", _BROADCASTS[name])
        if name == "subteam":
            return _span("bk-mention", label or "@" + group)
        return html.escape(label or f"<{slack_unescape(inner)}>")
    return link_html(slack_unescape(body), label)


def link_html(url: str, label: str) -> str:
    """A link opening in a new tab; any scheme but http(s) and mailto: only its words."""
    shown = emojize(html.escape(label or url.removeprefix("mailto:")))
    if not url.lower().startswith(_SCHEMES):
        return shown  # javascript:, data:, relative paths...: never a link
    return (
        f'<a class="bk-link" href="{html.escape(url, quote=True)}" target="_blank" '
        f'rel="noopener">{shown}</a>'
    )


def _span(css: str, text: str) -> str:
    return f'<span class="{css}">{html.escape(text)}</span>'


def _ordinal(day: int) -> str:
    suffix = "th" if 10 < day % 100 < 14 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _date_words(when: datetime, fallback: str) -> Mapping[str, str]:
    # Month and day names are spelled here, not by strftime: the locale must not matter.
    # The "pretty" forms would say "today"/"yesterday", and {ago} "5 minutes ago": both
    # need a clock, and these functions have none, so they read like the plain forms.
    month = _MONTHS[when.month - 1]
    date = f"{month} {_ordinal(when.day)}, {when.year}"
    short = f"{month[:3]} {when.day}, {when.year}"
    long = f"{_DAYS[when.weekday()]}, {date}"
    time = f"{when:%H:%M} UTC"
    return {
        "date_num": f"{when.year:04d}-{when.month:02d}-{when.day:02d}",
        "date": date,
        "date_short": short,
        "date_long": long,
        "date_pretty": date,
        "date_short_pretty": short,
        "date_long_pretty": long,
        "time": time,
        "time_secs": f"{when:%H:%M:%S} UTC",
        "ago": fallback or f"{short} at {time}",
    }


def date_html(stamp: str, form: str, fallback: str) -> str:
    """A Slack date (`<!date^STAMP^FORM|FALLBACK>`) as `<time>` in UTC, or the fallback."""
    try:
        when = datetime.fromtimestamp(int(stamp), UTC)
    except (ValueError, OverflowError, OSError):
        return html.escape(fallback)
    words = _date_words(when, fallback)
    text = _DATE_TOKEN.sub(lambda m: words.get(m[1], m[0]), form).strip()
    if not text:
        return html.escape(fallback)
    iso = when.isoformat().replace("+00:00", "Z")
    return f'<time class="bk-date" datetime="{html.escape(iso)}">{html.escape(text)}</time>'
