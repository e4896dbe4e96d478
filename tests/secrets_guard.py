"""Every test runs under a secrets guard: no token, signing secret, app secret or secret key
may appear in any log record (message, arguments, extras, exception text) or in anything
sent to the fake Slack (Web API calls and response_url posts).

The guard captures at DEBUG on the root logger, so what a verbose deployment would print is
checked too. A test that writes a secret into a log on purpose (to prove redaction) is
marked `secrets_in_logs`; its Slack traffic is still checked.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterable
from typing import Any

from bot.sandbox.loader import load_demo_world
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.signing import SIGNING_SECRET

# Secrets the tests hand to pixelbot (the demo world's tokens, Slack's, the signing secret);
# per-test values (the secret key, other tokens) are added by the fixtures that make them.
KNOWN: set[str] = {
    BOT_TOKEN,
    APP_TOKEN,
    SIGNING_SECRET,
    *(token for b in load_demo_world().businesses.values() for token in b.tokens),
}


class Recorder(logging.Handler):
    """Keeps the full text of every record: message, args, extras and traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        parts = [str(record.msg), repr(record.args), repr(vars(record))]
        try:
            parts.append(record.getMessage())
        except Exception:  # a broken format string is still checked raw
            parts.append("<unformattable>")
        if record.exc_info and record.exc_info[1] is not None:
            parts.append("".join(traceback.format_exception(record.exc_info[1])))
        self.texts.append("\n".join(parts))


def slack_traffic(fake: FakeSlack) -> list[str]:
    """Everything the app sent to the fake Slack, as text."""
    sent: list[Any] = [c.params for c in fake.calls] + list(fake.webhooks)
    return [json.dumps(item, default=str) for item in sent]


def leaks(texts: Iterable[str], secrets: Iterable[str]) -> list[str]:
    """A description of each secret found in `texts` (never the secret itself)."""
    found = []
    wanted = [s for s in secrets if len(s) >= 8]  # short strings would match by chance
    for index, text in enumerate(texts):
        for secret in wanted:
            if secret in text:
                found.append(f"item {index} contains a secret ({secret[:4]}…, {len(secret)} chars)")
    return found
