"""Logging, configured once by the entry point, with secrets masked as a last line of defence."""

from __future__ import annotations

import logging
import re

# Shapes of Slack and Meta tokens; anything matching is masked even if code slips up.
_TOKEN_SHAPES = re.compile(
    r"\b(xox[abposr]-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}|EAA[A-Za-z0-9]{20,})"
)
MIN_SECRET_LENGTH = 8


class RedactingFormatter(logging.Formatter):
    """Formats records, tracebacks included, then masks known secrets and token shapes."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self._secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Mask one more value (e.g. a token just decrypted)."""
        if len(secret) >= MIN_SECRET_LENGTH and secret not in self._secrets:
            self._secrets.append(secret)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        """`text` with every secret masked."""
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN_SHAPES.sub("[redacted]", text)


class _PixelbotHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler `configure` installed."""


def configure(level: str, secrets: list[str]) -> RedactingFormatter:
    """Set up root logging to stderr with redaction; returns the formatter to add secrets to."""
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    handler = _PixelbotHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    # Replace only our own handler, so a second call (or pytest's capture) is left alone.
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, _PixelbotHandler)]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every URL at INFO; ours carry no secrets, but the noise helps nobody.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return formatter
