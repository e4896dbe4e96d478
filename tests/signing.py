"""Requests signed the way Slack signs them."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


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


def command_body(text: str, user_id: str = "U0000USER", response_url: str = "") -> str:
    """A `/pixel` slash-command body."""
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
            "trigger_id": "13345224609.738474920.8088930838d88f008e0",
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
