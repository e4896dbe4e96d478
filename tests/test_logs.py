"""Log lines: text and JSON both carry the structured fields, and neither carries a secret."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import TEXT_FORMAT, JsonFormatter, RedactingFormatter
from tests import secrets_guard

SECRET = "s3cr3t-signing-value-0123"
META_TOKEN = "EAAGm0PX4ZCpsBAlogtestTOKEN1234567890"


def _record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError(f"boom with {META_TOKEN}")
        except RuntimeError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("bot.flows.audit", logging.WARNING, __file__, 1, msg, args, exc_info)
    for key, value in extra.items():
        setattr(record, key, value)
    return record


def test_text_lines_show_the_structured_fields() -> None:
    line = RedactingFormatter(TEXT_FORMAT, []).format(
        _record(
            "approve by %s: failed", "U0BO", share_request_id=7, fbtrace_id="AbC1", pixel_id=None
        )
    )
    assert line.endswith(
        "bot.flows.audit: approve by U0BO: failed [share_request_id=7 fbtrace_id=AbC1]"
    )


def test_json_lines_are_one_object_with_the_fields() -> None:
    line = JsonFormatter([]).format(
        _record(
            "unexpected error %s", "E-42", exc=True, error_id="E-42", pixel_id="300400500600701"
        )
    )
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "bot.flows.audit"
    assert entry["message"] == "unexpected error E-42"
    assert entry["error_id"] == "E-42"
    assert entry["pixel_id"] == "300400500600701"
    assert entry["time"].endswith("+00:00")
    assert "RuntimeError: boom" in entry["exception"]


@pytest.mark.parametrize(
    "formatter", [RedactingFormatter(TEXT_FORMAT, [SECRET]), JsonFormatter([SECRET])]
)
def test_secrets_are_masked_in_message_fields_and_traceback(formatter: logging.Formatter) -> None:
    line = formatter.format(
        _record(
            "signed with %s",
            SECRET,
            exc=True,
            note=f"token {META_TOKEN}",
            slack="xoxb-1234-5678-abcdefgh",
        )
    )
    assert SECRET not in line
    assert META_TOKEN not in line
    assert "xoxb-1234" not in line
    assert line.count("[redacted]") >= 4


def test_a_secret_json_would_escape_is_still_masked() -> None:
    tricky = 'quote"and\\backslash-secret'
    entry = json.loads(JsonFormatter([tricky]).format(_record("value %s", tricky)))
    assert entry["message"] == "value [redacted]"


def _db_upgrade(folder: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`pixelbot db upgrade` as a real process in `folder`, with only `env` set."""
    return subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env={**env, "PATH": "/usr/bin"},
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_log_format_json_reaches_the_process_output(tmp_path: Path) -> None:
    """A real `pixelbot` process with LOG_FORMAT=json prints JSON lines only."""
    done = _db_upgrade(tmp_path, LOG_FORMAT="json", DATABASE_URL=f"sqlite:///{tmp_path}/x.db")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines, "alembic logs each migration it runs"
    entries = [json.loads(line) for line in lines]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any("Running upgrade" in e["message"] for e in entries)


def test_bad_log_format_is_refused_with_one_line(tmp_path: Path) -> None:
    done = _db_upgrade(tmp_path, LOG_FORMAT="xml")
    assert done.returncode == 2
    assert done.stderr.startswith("pixelbot: LOG_FORMAT is not valid")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "pixelbot.db").exists()


secrets_guard.KNOWN.update({SECRET, META_TOKEN})
