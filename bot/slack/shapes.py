"""What a signed body must look like before Bolt reads it: JSON bounded in size and depth
before it is parsed, then the type of every field that Bolt or a listener indexes.

json.loads recurses once per level of nesting (10,000 `[` is a RecursionError), and Bolt
indexes payloads unguarded (`"id" in channel` on a number is a TypeError): both were 500s.
Each refusal is a plain sentence naming the field as Slack names it, never one of ours.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from itertools import accumulate
from typing import Any

MAX_JSON_CHARS = 1 << 20  # as the server's body limit: Slack's payloads are far smaller
MAX_DEPTH = 64  # Slack's deepest (rich text in a modal's state) nest about a dozen levels

_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
# Kinds of interaction payload, and what each must carry.
_NEEDS_USER = {"block_actions", "view_submission", "view_closed", "block_suggestion"}
_NEEDS_TRIGGER = {"block_actions", "view_submission"}
_NEEDS_VIEW = {"view_submission", "view_closed"}
# Slash-command fields Bolt and `/pixel` read; Slack sends every one of them as text.
_COMMAND_TEXT = (
    *("command", "text", "user_id", "team_id", "channel_id", "trigger_id"),
    *("response_url", "enterprise_id", "api_app_id"),
)
# Fields Bolt copies into its context, wherever it finds them; and, of the body itself,
# fields Bolt or a listener reads.
_IDS = ("team_id", "user_id", "channel_id")
_TEXT = ("api_app_id", "trigger_id", "response_url", "callback_id", "action_id", "event_id")
# Parts of a body that Bolt searches for ids as if each were a body of its own.
_SUB_BODIES = ("event", "message", "previous_message", "item", "assistant_thread")
_OBJECTS = {
    "enterprise": "a Slack enterprise object",
    "team": "a Slack team object",
    "user": "a Slack user object",
    "channel": "a Slack channel object",
}


class Malformed(ValueError):
    """Not a request Slack sends; `str(error)` says what is wrong in plain words."""


def json_depth(text: str) -> int:
    """How deeply `text`'s arrays and objects nest, brackets inside strings left out.

    Linear and mostly in C, without a tokenizer: once escaped backslashes, then escaped
    quotes, are gone, every remaining quote opens or closes a string.
    """
    plain = text.replace("\\\\", "").replace('\\"', "")
    outside = "".join(plain.split('"')[::2])
    brackets = _NOT_BRACKET.sub("", outside)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def load_json(text: str, what: str = "body") -> object:
    """`json.loads(text)`, once `text` is known to be small and shallow enough to parse."""
    if len(text) > MAX_JSON_CHARS:
        raise Malformed(f"this request's {what} is larger than anything Slack sends")
    if json_depth(text) > MAX_DEPTH:
        raise Malformed(
            f"this request's {what} nests deeper than {MAX_DEPTH} levels, "
            "deeper than anything Slack sends"
        )
    try:
        return json.loads(text)
    except ValueError:  # not JSON, or an integer of more digits than Python will read
        raise Malformed(f"this request's {what} could not be read as JSON") from None


def check(body: Mapping[str, Any]) -> None:
    """Raise `Malformed` unless every field Bolt and our listeners index has Slack's type."""
    _common(body)
    if "command" in body:  # Bolt takes any body with a `command` for a slash command
        if "type" in body:
            raise Malformed("this request is both a slash command and an interaction")
        for key in _COMMAND_TEXT:
            _text(body, key, "", required=key in ("command", "user_id", "trigger_id"))
        return
    _text(body, "type", "", required=True)
    _kind(body, body["type"])


def _kind(body: Mapping[str, Any], kind: str) -> None:
    """What each kind of request must carry, beyond the fields any body may."""
    if kind in _NEEDS_USER:
        _object(body, "user", "", _OBJECTS["user"], required=True)
    if kind in _NEEDS_TRIGGER:
        _text(body, "trigger_id", "", required=True)
    if kind in _NEEDS_VIEW:
        view = _object(body, "view", "", "a Slack view object", required=True) or {}
        for key in ("type", "callback_id"):
            _text(view, key, "view", required=True)
    if kind == "block_actions":  # Bolt routes a click by its first action's id
        if not body.get("actions"):
            raise Malformed("this request's `actions` is missing or empty")
        for index, action in enumerate(body["actions"]):
            _text(action, "action_id", f"actions[{index}]", required=True)
    if kind == "block_suggestion":
        _text(body, "action_id", "", required=True)
    if kind == "event_callback":
        _event(_object(body, "event", "", "an event object", required=True) or {})
    if kind == "url_verification":
        _text(body, "challenge", "")


def _common(data: Mapping[str, Any]) -> None:
    """What Bolt or a listener reads of any body, before it is routed."""
    _identities(data, "", top=True)
    for key in _TEXT:
        _text(data, key, "")
    if "event" in data:  # Bolt's self-event filter reads `.get("event", {}).get(...)`
        _object(data, "event", "", "an event object", nullable=False)
    view = _object(data, "view", "", "a Slack view object")
    if view is not None:
        _view(view, "view")
    if "actions" in data:
        _actions(data["actions"], "actions")
    if "response_urls" in data:  # a modal's: Bolt takes the first one's `response_url`
        for index, url in enumerate(_objects(data["response_urls"], "response_urls")):
            _text(url, "response_url", f"response_urls[{index}]")


def _identities(data: Mapping[str, Any], path: str, *, top: bool) -> None:
    """The ids Bolt takes into its context, wherever it looks for them: the body, and the
    parts it reads as bodies of their own (each authorization, the event, a message...),
    to whatever depth the JSON was allowed."""
    for key, what in _OBJECTS.items():
        if not top and isinstance(data.get(key), str):  # an event names them by id
            continue
        found = _object(data, key, path, what)
        if found is not None:
            _text(found, "id", _at(path, key), required=key in ("user", "channel"))
    for key in _IDS:
        _text(data, key, path)
    for key in ("enterprise_id", "thread_ts"):
        _text(data, key, path, nullable=True)
    authorizations = data.get("authorizations")
    if authorizations is not None:
        where = _at(path, "authorizations")
        for index, authorization in enumerate(_objects(authorizations, where)):
            _identities(authorization, f"{where}[{index}]", top=False)
    for key in _SUB_BODIES:
        part = data.get(key)
        if isinstance(part, dict):
            _identities(part, _at(path, key), top=False)


def _view(view: Mapping[str, Any], path: str) -> None:
    for key in ("id", "type", "callback_id", "private_metadata", "hash"):
        _text(view, key, path)
    for key in ("team_id", "app_installed_team_id"):  # Bolt's context: the team
        _text(view, key, path, nullable=True)
    state = _object(view, "state", path, "a Slack view state") or {}
    values = _object(state, "values", _at(path, "state"), "an object of input blocks") or {}
    # Block ids are the sender's text: the refusal names the field, never echoes them.
    if not all(isinstance(inputs, dict) for inputs in values.values()):
        raise Malformed(f"this request's `{path}.state.values` is not an object of objects")


def _actions(actions: object, path: str) -> None:
    for index, action in enumerate(_objects(actions, path)):
        for key in ("action_id", "block_id", "type", "value"):
            _text(action, key, f"{path}[{index}]")


def _event(event: Mapping[str, Any]) -> None:
    _text(event, "type", "event", required=True)
    _text(event, "tab", "event")
    if event.get("type") == "app_home_opened":  # names the user and the DM channel by id
        for key in ("user", "channel"):
            _text(event, key, "event")


def _objects(value: object, path: str) -> list[Mapping[str, Any]]:
    """`value` if it is a list of objects."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise Malformed(f"this request's `{path}` is not a list of objects")
    return value


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(
    data: Mapping[str, Any],
    key: str,
    path: str,
    what: str,
    *,
    required: bool = False,
    nullable: bool = True,
) -> Mapping[str, Any] | None:
    """`data[key]` if it is an object; None when absent (or null, if `nullable`)."""
    if key not in data:
        if required:
            raise Malformed(f"this request has no `{_at(path, key)}`")
        return None
    value = data[key]
    if isinstance(value, dict):
        return value
    if value is None and nullable and not required:
        return None
    raise Malformed(f"this request's `{_at(path, key)}` is not {what}")


def _text(
    data: Mapping[str, Any],
    key: str,
    path: str,
    *,
    required: bool = False,
    nullable: bool = False,
) -> None:
    """Refuse `data[key]` unless it is text (or absent, or null, as allowed)."""
    if key not in data:
        if required:
            raise Malformed(f"this request has no `{_at(path, key)}`")
        return
    value = data[key]
    if not (isinstance(value, str) or (value is None and nullable)):
        raise Malformed(f"this request's `{_at(path, key)}` is not text")
