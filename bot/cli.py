"""The `pixelbot` command. Settings are read once per invocation and passed down."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click
from alembic.util import CommandError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot import doctor, logs, manifest
from bot.config import Settings, load_settings
from bot.errors import ConfigError, PixelbotError
from bot.flows.registry import Registry
from bot.graph.sandbox import faults_from_cli, run_sandbox
from bot.runtime import ServeOptions, serve
from bot.sandbox_mode import SandboxOptions
from bot.store import migrate
from bot.store.db import async_url, create_engine, no_file_left_on_failure, session_factory
from bot.tokens import TokenBox, clean_token, new_secret_key

P = ParamSpec("P")
R = TypeVar("R")

EXIT_BAD_INPUT = 2
EXIT_FAILURE = 1


def _fail(message: str, status: int) -> None:
    click.echo(f"pixelbot: {message}", err=True)
    sys.exit(status)


def one_line_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Expected failures end the command with one line on stderr, never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except PixelbotError as exc:
            _fail(str(exc), EXIT_BAD_INPUT)
        except (OperationalError, DBAPIError, OSError) as exc:
            _fail(f"cannot reach the database: {type(exc).__name__}: {_first_line(exc)}", 1)
        raise AssertionError("unreachable")

    return wrapper


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0][:200] if text else ""


def _settings() -> Settings:
    settings = load_settings()
    logs.configure(settings.log_level, _known_secrets(settings), settings.log_format)
    return settings


def _known_secrets(settings: Settings) -> list[str]:
    names = ("slack_bot_token", "slack_signing_secret", "slack_app_token", "meta_app_secret")
    values = [getattr(settings, n) for n in (*names, "pixelbot_secret_key")]
    return [v.get_secret_value() for v in values if v is not None]


def _run(coro: Coroutine[Any, Any, R]) -> R:
    return asyncio.run(coro)


async def _with_registry(settings: Settings, action: Callable[[Registry], Awaitable[R]]) -> R:
    await migrate.ensure_schema(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        key = settings.pixelbot_secret_key
        registry = Registry(session_factory(engine), TokenBox(key) if key else None)
        return await action(registry)
    finally:
        await engine.dispose()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pixelbot")
def main() -> None:
    """pixelbot: share Meta pixels between businesses from Slack."""


@main.command("serve")
@click.option("--host", help="Address to listen on [default: HOST, else 127.0.0.1].")
@click.option(
    "--port", type=click.IntRange(1, 65535), help="Port to listen on [default: PORT, else 3000]."
)
@click.option("--socket-mode", is_flag=True, help="Connect to Slack over Socket Mode.")
@click.option("--sandbox", is_flag=True, help="Simulate Meta in-process with the demo world.")
@click.option(
    "--sandbox-admin",
    "sandbox_admins",
    multiple=True,
    metavar="SLACK_USER_ID",
    help="With --sandbox: make this Slack user an admin of every demo business.",
)
@click.option("--sandbox-channel", metavar="CHANNEL_ID", help="With --sandbox: approvals channel.")
@one_line_errors
def serve_command(
    host: str | None,
    port: int | None,
    socket_mode: bool,
    sandbox: bool,
    sandbox_admins: tuple[str, ...],
    sandbox_channel: str | None,
) -> None:
    """Run the bot (HTTP mode by default): POST /slack/events and GET /healthz."""
    if (sandbox_admins or sandbox_channel) and not sandbox:
        raise ConfigError("--sandbox-admin and --sandbox-channel go with --sandbox")
    settings = _settings()
    demo = SandboxOptions(admins=sandbox_admins, channel=sandbox_channel) if sandbox else None
    options = ServeOptions(
        host=host or settings.host,
        port=port or settings.port,
        socket_mode=socket_mode,
        sandbox=demo,
    )
    _run(serve(settings, options))


@main.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--world",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="World file (YAML or JSON); the built-in demo world by default.",
)
@click.option("--latency-ms", default=0, type=click.IntRange(0), help="Delay every call.")
@click.option(
    "--rate-limit-every",
    default=0,
    type=click.IntRange(0),
    help="Answer every Nth call with 80004 (BUC rate limit).",
)
@click.option(
    "--error-rate",
    default=0.0,
    type=click.FloatRange(0, 1),
    help="Share of calls answered with a transient error.",
)
@click.option(
    "--timeout-every",
    default=0,
    type=click.IntRange(0),
    help="Hold every Nth answer for --timeout-ms.",
)
@click.option("--timeout-ms", default=30000, type=click.IntRange(0))
@click.option("--seed", type=int, help="Seed for --error-rate, to replay a run.")
@one_line_errors
def sandbox_command(
    host: str,
    port: int,
    world: Path | None,
    latency_ms: int,
    rate_limit_every: int,
    error_rate: float,
    timeout_every: int,
    timeout_ms: int,
    seed: int | None,
) -> None:
    """Run the Graph API simulator; point GRAPH_API_URL at it to try pixelbot."""
    logs.configure("INFO", [])
    try:
        faults = faults_from_cli(
            latency_ms=latency_ms,
            rate_limit_every=rate_limit_every,
            error_rate=error_rate,
            timeout_every=timeout_every,
            timeout_ms=timeout_ms,
            seed=seed,
        )
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    run_sandbox(host, port, world, faults)


@main.command("doctor")
@one_line_errors
def doctor_command() -> None:
    """Check Slack, Meta tokens, approvals channels, admins, the database and the secret key."""
    settings = _settings()
    # The report says it all: what the clients log about failed calls would repeat it.
    chatty = () if settings.log_level.upper() == "DEBUG" else ("bot.graph", "slack_sdk", "alembic")
    with _quiet(*chatty):
        checks = _run(doctor.run_checks(settings))
    # Last line of defence: nothing shaped like a token reaches the terminal.
    redact = logs.RedactingFormatter("%(message)s", _known_secrets(settings)).redact
    for check in checks:
        click.echo(redact(check.line()))
    click.echo(doctor.summary(checks))
    if not all(check.ok for check in checks):
        sys.exit(EXIT_FAILURE)


@contextmanager
def _quiet(*loggers: str) -> Iterator[None]:
    """Only errors from these loggers for the duration (their levels are restored)."""
    saved = {name: logging.getLogger(name).level for name in loggers}
    for name in loggers:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@main.command("reconcile")
@one_line_errors
def reconcile_command() -> None:
    """One reconciliation pass (Meta against the database, reminders, expiry), then exit."""
    from bot.upkeep import reconcile_once

    report = _run(reconcile_once(_settings()))
    for line in report.lines():
        click.echo(line)


@main.command("manifest")
@click.option("--url", metavar="https://HOST", help="Public address that reaches pixelbot serve.")
@click.option("--socket-mode", is_flag=True, help="For Socket Mode: no request URLs.")
@one_line_errors
def manifest_command(url: str | None, socket_mode: bool) -> None:
    """Print the Slack app manifest to paste at api.slack.com/apps ("From an app manifest")."""
    if url and socket_mode:
        raise ConfigError("give either --url or --socket-mode: Socket Mode needs no public URL")
    click.echo(manifest.render(url, socket_mode=socket_mode), nl=False)


@main.command("secret-key")
def secret_key_command() -> None:
    """Print a fresh PIXELBOT_SECRET_KEY (keep it safe: tokens cannot be read without it)."""
    click.echo(new_secret_key())


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@one_line_errors
def db_upgrade_command() -> None:
    """Run the migrations up to the newest revision."""
    settings = _settings()
    revision = _run(_migrate(settings.database_url, migrate.upgrade))
    click.echo(f"database {_shown(settings)} is at revision {revision} (head)")


@db_group.command("downgrade")
@click.argument("revision")
@one_line_errors
def db_downgrade_command(revision: str) -> None:
    """Take the schema back to REVISION (e.g. 0002; `base` drops every table) for a rollback."""
    settings = _settings()

    async def down(engine: AsyncEngine) -> None:
        try:
            await migrate.downgrade(engine, revision)
        except CommandError as exc:  # an unknown revision: Alembic's own words
            raise ConfigError(str(exc)) from None

    reached = _run(_migrate(settings.database_url, down))
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


@main.group("business")
def business_group() -> None:
    """Businesses pixelbot acts for, and their Meta tokens."""


@business_group.command("add")
@click.argument("business_id")
@click.option("--name", required=True, help="Name shown in Slack.")
@click.option("--channel", help="Slack channel id where its approvals are posted (C…).")
@click.option("--token-env", metavar="VAR", help="Read the Meta token from this env variable.")
@click.option("--token-stdin", is_flag=True, help="Read the Meta token from standard input.")
@click.option("--replace", is_flag=True, help="Update a business that is already registered.")
@one_line_errors
def business_add_command(
    business_id: str,
    name: str,
    channel: str | None,
    token_env: str | None,
    token_stdin: bool,
    replace: bool,
) -> None:
    """Register a business with its token (never given as an argument)."""
    token = clean_token(_read_token(token_env, token_stdin))
    settings = _settings()
    settings.require("pixelbot_secret_key")
    view = _run(
        _with_registry(
            settings,
            lambda r: r.add_business(business_id, name, channel, token, replace=replace),
        )
    )
    verb = "updated" if replace else "registered"
    click.echo(f"{verb} business {view.business_id} ({view.name}), token {view.token_fingerprint}")


def _read_token(token_env: str | None, token_stdin: bool) -> str:
    if bool(token_env) == token_stdin:
        raise ConfigError("give the token with exactly one of --token-env VAR or --token-stdin")
    if token_stdin:
        return sys.stdin.read()
    assert token_env is not None
    value = os.environ.get(token_env)
    if value is None:
        raise ConfigError(f"environment variable {token_env} is not set")
    return value


@business_group.command("list")
@one_line_errors
def business_list_command() -> None:
    """List registered businesses (tokens shown by fingerprint only)."""
    views = _run(_with_registry(_settings(), lambda r: r.list_businesses()))
    if not views:
        click.echo("no business registered yet: pixelbot business add --help")
        return
    rows = [("BUSINESS_ID", "NAME", "CHANNEL", "TOKEN", "ADMINS")]
    rows += [
        (v.business_id, v.name, v.approvals_channel or "-", v.token_fingerprint, str(v.admin_count))
        for v in views
    ]
    _table(rows)


@business_group.command("remove")
@click.argument("business_id")
@one_line_errors
def business_remove_command(business_id: str) -> None:
    """Forget a business, its token and its admins (its history stays)."""
    _run(_with_registry(_settings(), lambda r: r.remove_business(business_id)))
    click.echo(f"removed business {business_id}")


@main.group("admin")
def admin_group() -> None:
    """Slack users allowed to act for a business."""


@admin_group.command("grant")
@click.argument("slack_user_id")
@click.argument("business_id")
@one_line_errors
def admin_grant_command(slack_user_id: str, business_id: str) -> None:
    """Let a Slack user act for a business."""
    _run(_with_registry(_settings(), lambda r: r.grant_admin(slack_user_id, business_id)))
    click.echo(f"{slack_user_id} is now an admin of business {business_id}")


@admin_group.command("revoke")
@click.argument("slack_user_id")
@click.argument("business_id")
@one_line_errors
def admin_revoke_command(slack_user_id: str, business_id: str) -> None:
    """Take a Slack user's admin right on a business away."""
    _run(_with_registry(_settings(), lambda r: r.revoke_admin(slack_user_id, business_id)))
    click.echo(f"{slack_user_id} is no longer an admin of business {business_id}")


@admin_group.command("list")
@click.argument("business_id", required=False)
@one_line_errors
def admin_list_command(business_id: str | None) -> None:
    """List admin grants, of one business or all."""
    grants = _run(_with_registry(_settings(), lambda r: r.list_admins(business_id)))
    if not grants:
        click.echo("no admins granted yet: pixelbot admin grant --help")
        return
    rows = [("SLACK_USER_ID", "BUSINESS_ID", "GRANTED_AT")]
    rows += [(g.slack_user_id, g.business_id, f"{g.granted_at:%Y-%m-%d %H:%M}Z") for g in grants]
    _table(rows)


def _table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
