"""Operator commands: doctor, reconcile, the Slack manifest, a new secret key."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from bot import doctor, logs, manifest
from bot.cli.common import EXIT_FAILURE, known_secrets, one_line_errors, run, settings_for_command
from bot.errors import ConfigError
from bot.tokens import new_secret_key


@click.command("doctor")
@one_line_errors
def doctor_command() -> None:
    """Check Slack, Meta tokens, approvals channels, admins, the database and the secret key."""
    settings = settings_for_command()
    # The report says it all: what the clients log about failed calls would repeat it.
    chatty = () if settings.log_level.upper() == "DEBUG" else ("bot.graph", "slack_sdk", "alembic")
    with _quiet(*chatty):
        checks = run(doctor.run_checks(settings))
    # Last line of defence: nothing shaped like a token reaches the terminal.
    redact = logs.RedactingFormatter("%(message)s", known_secrets(settings)).redact
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


@click.command("reconcile")
@one_line_errors
def reconcile_command() -> None:
    """One reconciliation pass (Meta against the database, reminders, expiry), then exit."""
    from bot.upkeep import reconcile_once

    report = run(reconcile_once(settings_for_command()))
    for line in report.lines():
        click.echo(line)


@click.command("manifest")
@click.option("--url", metavar="https://HOST", help="Public address that reaches pixelbot serve.")
@click.option("--socket-mode", is_flag=True, help="For Socket Mode: no request URLs.")
@one_line_errors
def manifest_command(url: str | None, socket_mode: bool) -> None:
    """Print the Slack app manifest to paste at api.slack.com/apps ("From an app manifest")."""
    if url and socket_mode:
        raise ConfigError("give either --url or --socket-mode: Socket Mode needs no public URL")
    click.echo(manifest.render(url, socket_mode=socket_mode), nl=False)


@click.command("secret-key")
def secret_key_command() -> None:
    """Print a fresh PIXELBOT_SECRET_KEY (keep it safe: tokens cannot be read without it)."""
    click.echo(new_secret_key())
