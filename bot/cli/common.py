"""What every pixelbot command shares: settings read once, one-line errors, the registry."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import click
from sqlalchemy.exc import DBAPIError, OperationalError

from bot import logs
from bot.config import Settings, load_settings
from bot.errors import PixelbotError
from bot.flows.access import NoBusiness, NotAdmin, NotConnected
from bot.flows.registry import Registry
from bot.store import migrate
from bot.store.db import create_engine, session_factory
from bot.tokens import TokenBox

P = ParamSpec("P")
R = TypeVar("R")

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def fail(message: str, status: int) -> None:
    """End the command with `pixelbot: message` on stderr."""
    click.echo(f"pixelbot: {message}", err=True)
    sys.exit(status)


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Expected failures end the command with one line on stderr, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except PixelbotError as exc:
            fail(cli_text(exc), EXIT_BAD_INPUT)
        except (OperationalError, DBAPIError, OSError) as exc:
            fail(f"cannot reach the database: {type(exc).__name__}: {first_line(exc)}", 1)
        raise AssertionError("unreachable")

    return wrapper


def cli_text(exc: PixelbotError) -> str:
    """The CLI's own words for a domain error: what an operator can run about it."""
    if isinstance(exc, NotConnected):
        add = f"pixelbot business add {exc.business_id} --name NAME --token-stdin"
        return f"{exc}; register it with `{add}`"
    if isinstance(exc, NotAdmin) and not exc.admins:
        return f"{exc}; grant one with `pixelbot admin grant SLACK_USER_ID {exc.business_id}`"
    if isinstance(exc, NoBusiness):
        return f"{exc}; grant it with `pixelbot admin grant {exc.user} BUSINESS_ID`"
    return str(exc)


def first_line(exc: BaseException) -> str:
    """The first line of an error's text (a driver's own error when there is one)."""
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0][:200] if text else ""


def settings_for_command() -> Settings:
    """The settings, read once, with logging configured to mask their secrets."""
    settings = load_settings()
    logs.configure(settings.log_level, known_secrets(settings), settings.log_format)
    return settings


def known_secrets(settings: Settings) -> list[str]:
    """Every secret setting that is set, for the log redactor."""
    names = ("slack_bot_token", "slack_signing_secret", "slack_app_token", "meta_app_secret")
    values = [getattr(settings, n) for n in (*names, "pixelbot_secret_key")]
    return [v.get_secret_value() for v in values if v is not None]


def run(coro: Coroutine[Any, Any, R]) -> R:
    """Run one coroutine to completion (each command is one event loop)."""
    return asyncio.run(coro)


async def with_registry(settings: Settings, action: Callable[[Registry], Awaitable[R]]) -> R:
    """Run `action` on the registry of the configured database (schema ensured first)."""
    await migrate.ensure_schema(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        key = settings.pixelbot_secret_key
        registry = Registry(session_factory(engine), TokenBox(key) if key else None)
        return await action(registry)
    finally:
        await engine.dispose()


def table(rows: Sequence[tuple[str, ...]]) -> None:
    """Print rows as left-aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
