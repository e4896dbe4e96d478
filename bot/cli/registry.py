"""`pixelbot business` and `pixelbot admin`: who pixelbot acts for, and who may act."""

from __future__ import annotations

import os
import sys

import click

from bot.cli.common import one_line_errors, run, settings_for_command, table, with_registry
from bot.errors import ConfigError
from bot.tokens import clean_token


@click.group("business")
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
    settings = settings_for_command()
    settings.require("pixelbot_secret_key")
    view = run(
        with_registry(
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
    views = run(with_registry(settings_for_command(), lambda r: r.list_businesses()))
    if not views:
        click.echo("no business registered yet: pixelbot business add --help")
        return
    rows = [("BUSINESS_ID", "NAME", "CHANNEL", "TOKEN", "ADMINS")]
    rows += [
        (v.business_id, v.name, v.approvals_channel or "-", v.token_fingerprint, str(v.admin_count))
        for v in views
    ]
    table(rows)


@business_group.command("remove")
@click.argument("business_id")
@one_line_errors
def business_remove_command(business_id: str) -> None:
    """Forget a business, its token and its admins (its history stays)."""
    run(with_registry(settings_for_command(), lambda r: r.remove_business(business_id)))
    click.echo(f"removed business {business_id}")


@click.group("admin")
def admin_group() -> None:
    """Slack users allowed to act for a business."""


@admin_group.command("grant")
@click.argument("slack_user_id")
@click.argument("business_id")
@one_line_errors
def admin_grant_command(slack_user_id: str, business_id: str) -> None:
    """Let a Slack user act for a business."""
    run(with_registry(settings_for_command(), lambda r: r.grant_admin(slack_user_id, business_id)))
    click.echo(f"{slack_user_id} is now an admin of business {business_id}")


@admin_group.command("revoke")
@click.argument("slack_user_id")
@click.argument("business_id")
@one_line_errors
def admin_revoke_command(slack_user_id: str, business_id: str) -> None:
    """Take a Slack user's admin right on a business away."""
    run(with_registry(settings_for_command(), lambda r: r.revoke_admin(slack_user_id, business_id)))
    click.echo(f"{slack_user_id} is no longer an admin of business {business_id}")


@admin_group.command("list")
@click.argument("business_id", required=False)
@one_line_errors
def admin_list_command(business_id: str | None) -> None:
    """List admin grants, of one business or all."""
    grants = run(with_registry(settings_for_command(), lambda r: r.list_admins(business_id)))
    if not grants:
        click.echo("no admins granted yet: pixelbot admin grant --help")
        return
    rows = [("SLACK_USER_ID", "BUSINESS_ID", "GRANTED_AT")]
    rows += [(g.slack_user_id, g.business_id, f"{g.granted_at:%Y-%m-%d %H:%M}Z") for g in grants]
    table(rows)
