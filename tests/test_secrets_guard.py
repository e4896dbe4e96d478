"""The guard around every test catches a leaked secret, so its silence means something."""

from __future__ import annotations

import logging

from tests import secrets_guard
from tests.conftest import SECRET_KEY
from tests.fakes.slack import BOT_TOKEN


def test_a_secret_in_a_log_record_is_found() -> None:
    recorder = secrets_guard.Recorder()
    log = logging.getLogger("tests.leaky")
    log.addHandler(recorder)
    log.setLevel(logging.DEBUG)
    log.propagate = False  # the leak stays in this test's own recorder
    try:
        log.info("calling with %s", BOT_TOKEN)
        try:
            raise ValueError(f"bad key {SECRET_KEY}")
        except ValueError:
            log.exception("failed")
        log.debug("clean line", extra={"token": "EAASandboxNovaMediaAdmin0001"})
    finally:
        log.removeHandler(recorder)
        log.propagate = True
    found = secrets_guard.leaks(recorder.texts, secrets_guard.KNOWN)
    assert len(found) == 3  # the argument, the exception text, the extra field
    assert all(BOT_TOKEN not in f and SECRET_KEY not in f for f in found)


def test_clean_text_is_not_flagged() -> None:
    texts = ["token sha256:3f1c0a9e72b4", "xoxb-…", "EAAS"]
    assert secrets_guard.leaks(texts, secrets_guard.KNOWN) == []
