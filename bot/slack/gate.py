"""The door of `POST /slack/events`, before Bolt sees anything.

Bolt checks signatures too, but parses the body first and indexes payloads unguarded: a
non-numeric timestamp, unparseable JSON or an odd shape becomes a 500, and its error hook
would then act on an unverified body (reply to its response_url). So: verify the signature
here (401) before anything is parsed, parse the body ourselves (400, JSON bounded in size and
depth first, and no Bolt quirk such as reading any form that mentions "payload" as
interactivity), check the shape Bolt and our listeners will index (400, bot/slack/shapes.py),
and only then hand Bolt the parsed body.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from bot.slack import shapes

MAX_AGE_SECONDS = 60 * 5  # Slack's own replay window


class Rejected(Exception):
    """The request is refused with `status` before any listener runs."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def is_ssl_check(body: bytes) -> bool:
    """Slack's unsigned certificate probe (`ssl_check=1`): answered 200, nothing run."""
    if b"ssl_check=" not in body:  # the common case, without parsing every body twice
        return False
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except (UnicodeDecodeError, ValueError):
        return False
    return form.get("ssl_check") == "1"


def verify(
    headers: Mapping[str, str],
    body: bytes,
    secret: str,
    clock: Callable[[], float] = time.time,
) -> None:
    """Raise `Rejected(401)` unless Slack signed `body` within the last five minutes."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12) or not signature:
        raise Rejected(401, "missing or malformed signature headers")
    if abs(clock() - int(timestamp)) > MAX_AGE_SECONDS:
        raise Rejected(401, "stale timestamp")
    # Slack's scheme (v0 = HMAC-SHA256 of "v0:{timestamp}:{body}"), over the raw bytes: a
    # body that is not UTF-8 must be refused as unsigned, not crash a decoder first.
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Rejected(401, "invalid signature")


def parse(body: bytes, content_type: str) -> dict[str, Any]:
    """The body as Bolt's dict: JSON (events), or a form (commands) or its `payload` field.

    Whatever cannot be read is refused (400) with a sentence that names the field, never an
    exception: the answer goes to whoever sent the body.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise Rejected(400, "this request's body is not UTF-8 text") from None
    try:
        what, data = _decode(text, content_type)
        if not isinstance(data, dict):
            raise shapes.Malformed(f"this request's {what} is not a JSON object")
        shapes.check(data)
    except shapes.Malformed as exc:
        raise Rejected(400, str(exc)) from None
    return data


def _decode(text: str, content_type: str) -> tuple[str, object]:
    """What a refusal calls the body, and its content: JSON (an event), a form's `payload`
    field (an interaction, JSON too), or the form itself (a command)."""
    if content_type.startswith("application/json") or text.startswith("{"):
        return "body", shapes.load_json(text)
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in form:
        return "`payload`", shapes.load_json(form["payload"], "`payload`")
    return "body", form
