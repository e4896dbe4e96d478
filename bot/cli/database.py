"""`pixelbot db`: the schema, up to head or back to a revision."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import click
from alembic.util import CommandError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.cli.common import one_line_errors, run, settings_for_command
from bot.config import Settings
from bot.errors import ConfigError
from bot.store import migrate
from bot.store.db import async_url, create_engine, no_file_left_on_failure


@click.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@one_line_errors
def db_upgrade_command() -> None:
    """Run the migrations up to the newest revision."""
    settings = settings_for_command()
    revision = run(_migrate(settings.database_url, migrate.upgrade))
    click.echo(f"database {_shown(settings)} is at revision {revision} (head)")


@db_group.command("downgrade")
@click.argument("revision")
@one_line_errors
def db_downgrade_command(revision: str) -> None:
    """Take the schema back to REVISION (e.g. 0002; `base` drops every table) for a rollback."""
    settings = settings_for_command()

    async def down(engine: AsyncEngine) -> None:
        try:
            await migrate.downgrade(engine, revision)
        except CommandError as exc:  # an unknown revision: Alembic's own words
            raise ConfigError(str(exc)) from None

    reached = run(_migrate(settings.database_url, down))
    click.echo(f"database {_shown(settings)} is at revision {reached or 'base (empty)'}")


async def _migrate(
    database_url: str, action: Callable[[AsyncEngine], Awaitable[None]]
) -> str | None:
    with no_file_left_on_failure(database_url):
        engine = create_engine(database_url)
        try:
            await action(engine)
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()


def _shown(settings: Settings) -> str:
    return async_url(settings.database_url).render_as_string(hide_password=True)
