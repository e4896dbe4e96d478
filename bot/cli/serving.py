"""`pixelbot serve` (the bot) and `pixelbot sandbox` (the Graph simulator on its own)."""

from __future__ import annotations

from pathlib import Path

import click

from bot import logs
from bot.cli.common import one_line_errors, run, settings_for_command
from bot.errors import ConfigError
from bot.playground.server import DATABASE_FILE, run_playground
from bot.runtime import ServeOptions, serve
from bot.sandbox import faults_from_cli, run_sandbox
from bot.sandbox.variants import VARIANTS
from bot.sandbox_mode import SandboxOptions


@click.command("serve")
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
    settings = settings_for_command()
    demo = SandboxOptions(admins=sandbox_admins, channel=sandbox_channel) if sandbox else None
    options = ServeOptions(
        host=host or settings.host,
        port=port or settings.port,
        socket_mode=socket_mode,
        sandbox=demo,
    )
    run(serve(settings, options))


@click.command("playground")
@click.option(
    "--port",
    default=3000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port on 127.0.0.1 for the page and everything behind it.",
)
@click.option("--reset", is_flag=True, help=f"Start afresh: forget {DATABASE_FILE}.")
@one_line_errors
def playground_command(port: int, reset: bool) -> None:
    """Try pixelbot with no Slack app and no Meta account: a Slack-like page at
    http://127.0.0.1:PORT/ with the demo businesses, pixelbot and Meta simulated behind it."""
    logs.configure("INFO", [])
    click.echo(f"pixelbot playground: open http://127.0.0.1:{port}/ (Ctrl-C to stop)")
    run(run_playground(port, Path.cwd(), fresh=reset))


@click.command("sandbox")
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
@click.option(
    "--variant",
    "variants",
    multiple=True,
    type=click.Choice(sorted(VARIANTS)),
    help="Play this reading of Meta its documentation leaves open (docs/meta.md).",
)
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
    variants: tuple[str, ...],
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
    run_sandbox(host, port, world, faults, frozenset(variants))
