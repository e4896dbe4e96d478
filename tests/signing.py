"""Requests signed the way Slack signs them."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
_TRIGGERS = itertools.count(738474920)


def new_trigger_id() -> str:
    """A trigger_id shaped as Slack's: Slack gives every interaction its own."""
    return f"13345224609.{next(_TRIGGERS)}.{secrets.token_hex(16)}"


def signed_headers(
    body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """Slack's signature headers for `body`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {
        "x-slack-request-timestamp": ts,
        "x-slack-signature": signature,
        "content-type": "application/x-www-form-urlencoded",
    }


def command_body(
    text: str, user_id: str = "U0000USER", response_url: str = "", trigger_id: str | None = None
) -> str:
    """A `/pixel` slash-command body (a new trigger_id unless one is given: a redelivery)."""
    return urlencode(
        {
            "token": "legacy-unused",
            "team_id": "T0000TEAM",
            "channel_id": "C0000CHAN",
            "user_id": user_id,
            "user_name": "someone",
            "command": "/pixel",
            "text": text,
            "response_url": response_url,
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )


def event_body(event: dict[str, Any], event_id: str = "Ev0001") -> str:
    """An Events API callback body (JSON)."""
    return json.dumps(
        {
            "token": "legacy-unused",
            "team_id": "T0000TEAM",
            "api_app_id": "A0000APP",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": event,
        }
    )


def action_body(
    action_id: str,
    value: str,
    user_id: str,
    response_url: str,
    *,
    channel: str = "C0000CHAN",
    message_ts: str = "1700000000.000001",
    trigger_id: str | None = None,
) -> str:
    """A `block_actions` payload for one button click, form-encoded as Slack sends it."""
    payload = {
        "type": "block_actions",
        "user": {"id": user_id, "username": "someone", "team_id": "T0000TEAM"},
        "api_app_id": "A0000APP",
        "token": "legacy-unused",
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": "T0000TEAM", "domain": "example"},
        "channel": {"id": channel, "name": "approvals"},
        "message": {"type": "message", "ts": message_ts, "text": ""},
        "response_url": response_url,
        "actions": [
            {
                "action_id": action_id,
                "block_id": "b1",
                "text": {"type": "plain_text", "text": "Button"},
                "value": value,
                "type": "button",
                "action_ts": str(time.time()),
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)})


def view_body(
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    user_id: str,
    private_metadata: str = "",
    trigger_id: str | None = None,
) -> str:
    """A `view_submission` payload for a modal, form-encoded as Slack sends it."""
    payload = {
        "type": "view_submission",
        "team": {"id": "T0000TEAM", "domain": "example"},
        "user": {"id": user_id, "username": "someone", "name": "someone", "team_id": "T0000TEAM"},
        "api_app_id": "A0000APP",
        "token": "legacy-unused",
        "trigger_id": trigger_id or new_trigger_id(),
        "view": {
            "id": "V0000VIEW",
            "team_id": "T0000TEAM",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
            "hash": "h1",
            "title": {"type": "plain_text", "text": "pixelbot"},
        },
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)})
