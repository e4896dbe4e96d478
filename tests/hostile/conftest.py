"""The e2e bot fixtures, reused: hostile tests drive the same real app."""

import logging
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import bot as bot  # fixture, reused
from tests.e2e.conftest import make_bot as make_bot  # fixture, needed by `bot`


@pytest.fixture(autouse=True)
def _quiet_sqlite_driver() -> Iterator[None]:
    """aiosqlite logs two DEBUG records per statement, each captured and scanned by the
    secret guard (tests/conftest.py): over thousands of fuzzed requests, half this suite's
    time. Statements carry only what is stored, and secrets are stored encrypted
    (tests/test_tokens_at_rest.py); every other record is still captured and scanned."""
    logger = logging.getLogger("aiosqlite")
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield
    logger.setLevel(previous)
