"""Logging, configured once by the entry point: text for people or JSON lines for collectors,
structured fields shown in both, secrets masked as a last line of defence."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["text", "json"]

# Shapes of Slack and Meta tokens; anything matching is masked even if code slips up.
_TOKEN_SHAPES = re.compile(
    r"\b(xox[abposr]-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}|EAA[A-Za-z0-9]{20,})"
)
MIN_SECRET_LENGTH = 8
# What every LogRecord carries; anything else on a record came from `extra=` and is a field.
# uvicorn adds `color_message`, the same text with terminal colours.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields given with `extra=` (error_id, share_request_id, fbtrace_id …)."""
    return {
        key: value
        for key, value in vars(record).items()
        if key not in _RECORD_ATTRIBUTES and not key.startswith("_") and value is not None
    }


class RedactingFormatter(logging.Formatter):
    """Formats records, tracebacks and fields included, then masks known secrets and tokens."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        # Short values would mask ordinary words; token shapes are masked whatever is listed.
        self._secrets = list(dict.fromkeys(s for s in secrets if len(s) >= MIN_SECRET_LENGTH))

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = fields(record)
        if extra:
            text += " [" + " ".join(f"{key}={value}" for key, value in extra.items()) + "]"
        return self.redact(text)

    def redact(self, text: str) -> str:
        """`text` with every secret masked."""
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN_SHAPES.sub("[redacted]", text)


class JsonFormatter(RedactingFormatter):
    """One JSON object per line: time, level, logger, message, the fields, the traceback."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__("%(message)s", secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # Masked value by value, before encoding: escaping could hide a secret from a text scan.
        return json.dumps({key: self._masked(value) for key, value in entry.items()})

    def _masked(self, value: Any) -> Any:
        if isinstance(value, bool | int | float):
            return value
        return self.redact(value if isinstance(value, str) else str(value))


class _PixelbotHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler `configure` installed."""


def configure(level: str, secrets: list[str], fmt: LogFormat = "text") -> None:
    """Set up root logging to stderr, masking `secrets` and anything shaped like a token."""
    formatter = (
        JsonFormatter(secrets) if fmt == "json" else RedactingFormatter(TEXT_FORMAT, secrets)
    )
    handler = _PixelbotHandler()
    handler.setFormatter(formatter)
    root = logging.getLogger()
    # Replace only our own handler, so a second call (or pytest's capture) is left alone.
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, _PixelbotHandler)]
    root.addHandler(handler)
    root.setLevel(level.upper())
    # httpx logs every URL at INFO; ours carry no secrets, but the noise helps nobody.
    logging.getLogger("httpx").setLevel(logging.WARNING)
