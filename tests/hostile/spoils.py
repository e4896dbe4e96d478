"""Payloads as Slack sends them, and the ways one field can be spoiled so that Slack could
never have sent it: each spoil must be refused at the door (400), before Bolt reads it.

A spoil is `(path, value)`: `path` is dotted keys with `[n]` list indexes, `value` the field's
new value, or MISSING to leave the field out.
"""

from __future__ import annotations

import copy
import json
import re
import time
from typing import Any
from urllib.parse import urlencode

from bot.slack.ids import Action, Callback, Field
from tests.e2e.conftest import NOVA, NOVA_CHANNEL, STRANGER, WEBSITE
from tests.signing import new_trigger_id


class _Missing:
    """A field left out of the payload; stays itself when a payload is copied."""

    def __repr__(self) -> str:
        return "MISSING"

    def __deepcopy__(self, memo: dict[int, Any]) -> _Missing:
        return self


MISSING: Any = _Missing()
Spoil = tuple[str, Any]

FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}

# Wrong types, each in place of an object with an `id`.
_NOT_AN_IDENTITY: dict[str, Any] = {
    "a number": 5,
    "a list": ["X1"],
    "text": "X0000001",
    "true": True,
    "an empty object": {},
    "an object with a numeric id": {"id": 5},
}
_NOT_TEXT: dict[str, Any] = {"a number": 5, "a list": ["x"], "an object": {"x": 1}, "true": True}

# Shared by every interaction payload: the fields Bolt reads of any body.
COMMON: dict[str, Spoil] = {
    **{f"channel is {k}": ("channel", v) for k, v in _NOT_AN_IDENTITY.items()},
    **{f"user is {k}": ("user", v) for k, v in _NOT_AN_IDENTITY.items()},
    "user is null": ("user", None),
    "user is missing": ("user", MISSING),
    **{f"team is {k}": ("team", v) for k, v in _NOT_AN_IDENTITY.items() if k != "an empty object"},
    "enterprise is a number": ("enterprise", 5),
    "enterprise id is a list": ("enterprise", {"id": []}),
    "type is a number": ("type", 5),
    "type is missing": ("type", MISSING),
    **{f"response_url is {k}": ("response_url", v) for k, v in _NOT_TEXT.items()},
    "response_url is null": ("response_url", None),
    "event is null": ("event", None),
    "event is text": ("event", "app_home_opened"),
    "view is a number": ("view", 5),
    "view is text": ("view", "decline_modal"),
    "view is a list": ("view", [{"callback_id": "x"}]),
    "authorizations is text": ("authorizations", "x"),
    "an authorization is a number": ("authorizations", [5]),
    "an authorization's team is a number": ("authorizations", [{"team": 5}]),
    "response_urls is an object": ("response_urls", {"response_url": "x"}),
    "a response_urls entry is text": ("response_urls", ["http://x"]),
    "a response_urls url is a number": ("response_urls", [{"response_url": 5}]),
    "command rides along": ("command", "/pixel"),
}
CLICK: dict[str, Spoil] = {
    **COMMON,
    **{f"trigger_id is {k}": ("trigger_id", v) for k, v in _NOT_TEXT.items()},
    "trigger_id is null": ("trigger_id", None),
    "trigger_id is missing": ("trigger_id", MISSING),
    "actions is missing": ("actions", MISSING),
    "actions is an empty list": ("actions", []),
    "actions is an object": ("actions", {"action_id": Action.APPROVE.value}),
    "actions is text": ("actions", Action.APPROVE.value),
    "actions is null": ("actions", None),
    "an action is a number": ("actions", [5]),
    "an action has no action_id": ("actions[0].action_id", MISSING),
    "an action_id is a number": ("actions[0].action_id", 5),
    "an action's value is a number": ("actions[0].value", 5),
    "an action's value is null": ("actions[0].value", None),
    "an action's value is a list": ("actions[0].value", ["1"]),
    "an action's value is an object": ("actions[0].value", {"id": "1"}),
    "a modal's view has a numeric callback_id": ("view", {"type": "modal", "callback_id": 5}),
}
SUBMISSION: dict[str, Spoil] = {
    **COMMON,
    **{f"trigger_id is {k}": ("trigger_id", v) for k, v in _NOT_TEXT.items()},
    "trigger_id is missing": ("trigger_id", MISSING),
    "view is missing": ("view", MISSING),
    "view is null": ("view", None),
    "view has no type": ("view.type", MISSING),
    "view has no callback_id": ("view.callback_id", MISSING),
    "view callback_id is a number": ("view.callback_id", 5),
    "view callback_id is a list": ("view.callback_id", [Callback.DECLINE.value]),
    "view id is a number": ("view.id", 5),
    **{f"private_metadata is {k}": ("view.private_metadata", v) for k, v in _NOT_TEXT.items()},
    "private_metadata is null": ("view.private_metadata", None),
    "view state is text": ("view.state", "x"),
    "view state values is a list": ("view.state.values", [1]),
    "view state values is text": ("view.state.values", "x"),
    "a view state block is a number": ("view.state.values", {"b": 5}),
    "a view state block is a list": ("view.state.values", {"b": [{"value": "x"}]}),
}
COMMAND: dict[str, Spoil] = {  # a JSON body: a form's fields are always text
    **{
        f"{field} is {k}": (field, v)
        for field in ("command", "text", "user_id", "team_id", "channel_id", "trigger_id")
        for k, v in _NOT_TEXT.items()
    },
    "response_url is a number": ("response_url", 5),
    "user_id is missing": ("user_id", MISSING),
    "trigger_id is missing": ("trigger_id", MISSING),
    "user_id is null": ("user_id", None),
    "a type rides along": ("type", "block_actions"),
    "channel is a number": ("channel", 5),
}
EVENT: dict[str, Spoil] = {
    "event is missing": ("event", MISSING),
    "event is null": ("event", None),
    "event is a number": ("event", 5),
    "event is a list": ("event", [{"type": "app_home_opened"}]),
    "event type is missing": ("event.type", MISSING),
    "event type is a number": ("event.type", 5),
    "event user is a number": ("event.user", 5),
    "event user is an object without an id": ("event.user", {"name": "U1"}),
    "event channel is false": ("event.channel", False),
    "event tab is a list": ("event.tab", ["home"]),
    "team is a number": ("team", 5),
    "authorizations is an object": ("authorizations", {"team_id": "T1"}),
    "an authorization's enterprise is a number": ("authorizations", [{"enterprise": 5}]),
    "type is a list": ("type", ["event_callback"]),
}


def nested(levels: int, inner: Any = 1) -> str:
    """JSON text: `inner` inside `levels` lists."""
    return "[" * levels + json.dumps(inner) + "]" * levels


def spoiled(payload: dict[str, Any], spoil: Spoil) -> dict[str, Any]:
    """A deep copy of `payload` with the spoil applied."""
    path, value = spoil
    result = copy.deepcopy(payload)
    keys: list[str | int] = [
        int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", path)
    ]
    node: Any = result
    for key in keys[:-1]:  # a missing object on the way is made (a view without state)
        node = node.setdefault(key, {}) if isinstance(node, dict) else node[key]
    if value is MISSING:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = copy.deepcopy(value)
    return result


def expected_words(spoil: Spoil) -> str:
    """What the refusal must name: the field, as Slack names it."""
    path = spoil[0]
    if path in ("command", "type") and spoil[1] in ("/pixel", "block_actions"):
        return "both a slash command and an interaction"
    return "`" + re.split(r"[.\[]", path)[0]


def click(action: str, value: str, user: str, response_url: str) -> dict[str, Any]:
    """A button click in a channel message, every field as Slack sends it."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": "someone", "team_id": "T0000TEAM"},
        "api_app_id": "A0000APP",
        "token": "legacy-unused",
        "container": {"type": "message", "message_ts": "1.1", "channel_id": NOVA_CHANNEL},
        "trigger_id": new_trigger_id(),
        "team": {"id": "T0000TEAM", "domain": "example"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": NOVA_CHANNEL, "name": "approvals"},
        "message": {"type": "message", "ts": "1.1", "text": ""},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "Button"},
                "value": value,
                "type": "button",
                "action_ts": "1700000000.1",
            }
        ],
    }


def submission(callback: str, values: dict[str, Any], user: str, metadata: str) -> dict[str, Any]:
    """A modal's submission, every field as Slack sends it."""
    return {
        "type": "view_submission",
        "team": {"id": "T0000TEAM", "domain": "example"},
        "user": {"id": user, "username": "someone", "name": "someone", "team_id": "T0000TEAM"},
        "api_app_id": "A0000APP",
        "token": "legacy-unused",
        "trigger_id": new_trigger_id(),
        "view": {
            "id": "V0000VIEW",
            "team_id": "T0000TEAM",
            "type": "modal",
            "callback_id": callback,
            "private_metadata": metadata,
            "state": {"values": values},
            "hash": "h1",
            "title": {"type": "plain_text", "text": "pixelbot"},
            "app_installed_team_id": "T0000TEAM",
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def reason(text: str) -> dict[str, Any]:
    """The decline modal's state, with `text` typed as the reason."""
    return {Field.REASON.value: {Field.VALUE.value: {"type": "plain_text_input", "value": text}}}


def command(text: str, user: str, response_url: str) -> dict[str, Any]:
    """A slash command's fields (Slack sends them as a form; as JSON, their types can vary)."""
    return {
        "token": "legacy-unused",
        "team_id": "T0000TEAM",
        "channel_id": "C0000CHAN",
        "user_id": user,
        "user_name": "someone",
        "command": "/pixel",
        "text": text,
        "response_url": response_url,
        "trigger_id": new_trigger_id(),
    }


def event(inner: dict[str, Any], event_id: str) -> dict[str, Any]:
    """An Events API callback, with the authorizations Slack adds."""
    return {
        "token": "legacy-unused",
        "team_id": "T0000TEAM",
        "api_app_id": "A0000APP",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": inner,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": "T0000TEAM",
                "user_id": "U0000BOT",
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": "4-eyJldCI6ImFwcF9ob21lX29wZW5lZCJ9",
    }


def form(payload: dict[str, Any]) -> str:
    """An interaction, form-encoded as Slack sends it."""
    return urlencode({"payload": json.dumps(payload)})


KINDS = ["click", "submission", "json command", "form command", "event"]


def of_kind(kind: str, pending: str, url: str) -> dict[str, Any]:
    """A payload of `kind` (see KINDS), sent by a stranger, aimed at request `pending`."""
    if kind == "click":
        return click(Action.APPROVE.value, pending, STRANGER, url)
    if kind == "submission":
        return submission(Callback.DECLINE.value, reason("no"), STRANGER, pending)
    if kind == "event":
        home = {"type": "app_home_opened", "user": STRANGER, "channel": "D0HOME", "tab": "home"}
        return event(home, "EvMutant")
    return command(f"share {WEBSITE} {NOVA} ANALYZE", STRANGER, url)


def encoded(kind: str, payload: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """`payload` as a body of its kind, and its content type."""
    if kind in ("click", "submission"):
        return form(payload), FORM
    if kind == "form command":  # a form carries text only: anything else as its JSON
        fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}
        return urlencode(fields), FORM
    return json.dumps(payload), JSON
