"""Alembic, driven from the app: upgrade, downgrade and "is the schema at head?"."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import ConfigError
from bot.store.db import create_engine, is_sqlite, no_file_left_on_failure

_PACKAGE = Path(__file__).resolve().parents[1]
# An installed wheel carries them as bot/migrations (setup.py maps the repository's top-level
# folder there); an editable install runs from the checkout, where they sit beside bot/.
_PLACES = (_PACKAGE / "migrations", _PACKAGE.parent / "migrations")


def migrations_dir() -> Path:
    """The folder of Alembic scripts this pixelbot was installed with."""
    for place in _PLACES:
        if (place / "env.py").is_file():
            return place
    raise ConfigError(
        f"this pixelbot was installed without its migrations (looked in {_PLACES[0]})"
    )


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations shipped with this pixelbot."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def head_revision() -> str:
    """The newest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _run(connection: Connection, direction: str, revision: str) -> None:
    config = alembic_config()
    # env.py reuses this connection instead of opening its own (Alembic's asyncio recipe).
    config.attributes["connection"] = connection
    getattr(command, direction)(config, revision)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Bring the schema up to `revision`."""
    async with engine.begin() as conn:
        await conn.run_sync(_run, "upgrade", revision)


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Take the schema down to `revision` (`base` drops everything)."""
    async with engine.begin() as conn:
        await conn.run_sync(_run, "downgrade", revision)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None for an empty database."""

    def read(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    # Alembic announces its dialect at INFO whenever it looks: noise on every command.
    quiet = logging.getLogger("alembic.runtime.migration")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(read)
    finally:
        quiet.setLevel(level)


async def ensure_schema(database_url: str) -> None:
    """SQLite is brought to head on first use; a shared database must be upgraded deliberately
    (`pixelbot db upgrade`, once, not from every replica)."""
    with no_file_left_on_failure(database_url):
        engine = create_engine(database_url)
        try:
            current, head = await current_revision(engine), head_revision()
            if current != head and is_sqlite(engine):
                await upgrade(engine)
            elif current != head:
                found = f"is at {current}" if current else "has no pixelbot schema yet"
                raise ConfigError(
                    f"the database {found} but this pixelbot needs {head}: "
                    "run `pixelbot db upgrade` once (not from every replica)"
                )
        finally:
            await engine.dispose()
