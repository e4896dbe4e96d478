"""The door of `POST /slack/events`, before Bolt sees anything.

Bolt checks signatures too, but parses the body first and indexes payloads unguarded: a
non-numeric timestamp, unparseable JSON or an odd shape becomes a 500, and its error hook
would then act on an unverified body (reply to its response_url). So: verify the signature
here (401), parse the body ourselves (400, and no Bolt quirk such as reading any form that
mentions "payload" as interactivity), check the shape Bolt will index (400), and only then
hand Bolt the parsed body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl

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
    """The body as Bolt's dict: JSON (events), or a form (commands) or its `payload` field."""
    try:
        text = body.decode("utf-8")
        if content_type.startswith("application/json") or text.startswith("{"):
            data: object = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            data = json.loads(form["payload"]) if "payload" in form else form
    except (UnicodeDecodeError, ValueError) as exc:
        raise Rejected(400, f"unreadable body: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise Rejected(400, "the body is not an object")
    check_shape(data)
    return data


def _object(data: Mapping[str, Any], key: str, *, required: bool = False) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise Rejected(400, f"`{key}` must be an object")
    return value


def _text(data: Mapping[str, Any], key: str, *, required: bool = False) -> None:
    value = data.get(key)
    if (value is None and required) or (value is not None and not isinstance(value, str)):
        raise Rejected(400, f"`{key}` must be a string")


def check_shape(data: Mapping[str, Any]) -> None:
    """Raise `Rejected(400)` unless every field Bolt and our listeners index has its type."""
    # Fields Bolt reads as objects when building its context (others it copes with).
    for key in ("enterprise", "team"):
        _object(data, key)
    authorizations = data.get("authorizations")
    if authorizations is not None and not (
        isinstance(authorizations, list) and all(isinstance(a, dict) for a in authorizations)
    ):
        raise Rejected(400, "`authorizations` must be a list of objects")
    kind = data.get("type")
    if kind is None and "command" in data:  # a slash command (form fields are strings)
        for key in ("command", "user_id", "text"):
            _text(data, key, required=key != "text")
        return
    _text(data, "type", required=True)
    if kind in ("block_actions", "view_submission", "view_closed", "block_suggestion"):
        _text(_object(data, "user", required=True), "id", required=True)
    if kind == "block_actions":
        actions = data.get("actions")
        if not isinstance(actions, list) or not actions:
            raise Rejected(400, "`actions` must be a non-empty list")
        for action in actions:
            if not isinstance(action, dict):
                raise Rejected(400, "each action must be an object")
            _text(action, "action_id", required=True)
    if kind in ("view_submission", "view_closed"):
        view = _object(data, "view", required=True)
        _text(view, "type", required=True)
        _text(view, "callback_id", required=True)
    if kind == "event_callback":
        event = _object(data, "event", required=True)
        _text(event, "type", required=True)
        for key in ("user", "channel", "tab"):
            _text(event, key)
        _text(data, "event_id")
