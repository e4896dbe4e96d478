"""Shared fixtures: a real database per test (SQLite always, PostgreSQL when configured),
the fake Slack Web API on loopback, and settings that point at them."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings, load_settings
from bot.store import migrate
from bot.store.db import create_engine
from tests import secrets_guard
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.signing import SIGNING_SECRET

PG_URL = os.environ.get("PIXELBOT_TEST_DATABASE_URL")
SECRET_KEY = Fernet.generate_key().decode()
secrets_guard.KNOWN.add(SECRET_KEY)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if PG_URL:
        return
    skip = pytest.mark.skip(reason="PIXELBOT_TEST_DATABASE_URL is not set")
    for item in items:
        if "postgresql" in item.keywords:
            item.add_marker(skip)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "secrets_in_logs: the test logs a secret on purpose (to prove redaction)"
    )


@pytest.fixture(autouse=True)
def _no_secret_leaks(request: pytest.FixtureRequest) -> Iterator[secrets_guard.Recorder]:
    """Fail the test if a known secret reached a log record or the fake Slack."""
    recorder = secrets_guard.Recorder()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(recorder)
    root.setLevel(logging.DEBUG)
    try:
        yield recorder
    finally:
        root.removeHandler(recorder)
        root.setLevel(previous)
    texts = [] if request.node.get_closest_marker("secrets_in_logs") else recorder.texts
    fake = request.node.funcargs.get("fake_slack")
    if isinstance(fake, FakeSlack):
        texts = [*texts, *secrets_guard.slack_traffic(fake)]
    found = secrets_guard.leaks(texts, secrets_guard.KNOWN)
    assert not found, "secrets leaked: " + "; ".join(found[:5])


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's real settings or `.env`."""
    for name in list(os.environ):
        ours = name.startswith(("SLACK_", "GRAPH_", "META_", "PIXELBOT_")) or name == "DATABASE_URL"
        if ours and name != "PIXELBOT_TEST_DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


async def _create_pg_database() -> str:
    assert PG_URL is not None
    url = make_url(PG_URL)
    name = f"pixelbot_t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def _drop_pg_database(database_url: str) -> None:
    assert PG_URL is not None
    url, admin = make_url(database_url), make_url(PG_URL)
    conn = await asyncpg.connect(
        host=admin.host, port=admin.port or 5432, user=admin.username, database=admin.database
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend; PostgreSQL ones are created and dropped per test.

    A plain (sync) fixture, so that sync tests driving the CLI can use it too.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'pixelbot.db'}"
        return
    url = asyncio.run(_create_pg_database())
    try:
        yield url
    finally:
        asyncio.run(_drop_pg_database(url))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database migrated to head."""
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """Slack's Web API on loopback."""
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def settings_env(database_url: str, fake_slack: FakeSlack) -> dict[str, str]:
    """The environment of a pixelbot process wired to the test database and fake Slack."""
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": fake_slack.base_url,
        "DATABASE_URL": database_url,
        "PIXELBOT_SECRET_KEY": SECRET_KEY,
    }


@pytest.fixture
def settings(settings_env: dict[str, str]) -> Settings:
    """Settings for an in-process app (no `.env` read)."""
    return load_settings(env_file=None, **{k.lower(): v for k, v in settings_env.items()})
