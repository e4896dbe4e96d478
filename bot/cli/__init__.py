"""The `pixelbot` command: one module per command group. Settings are read once per
invocation and passed down."""

from __future__ import annotations

import click

from bot.cli.database import db_group
from bot.cli.operations import (
    doctor_command,
    manifest_command,
    reconcile_command,
    secret_key_command,
)
from bot.cli.registry import admin_group, business_group
from bot.cli.serving import playground_command, sandbox_command, serve_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pixelbot")
def main() -> None:
    """pixelbot: share Meta pixels between businesses from Slack."""


for command in (
    serve_command,
    playground_command,
    sandbox_command,
    db_group,
    business_group,
    admin_group,
    doctor_command,
    reconcile_command,
    manifest_command,
    secret_key_command,
):
    main.add_command(command)
