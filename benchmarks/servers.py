"""Servers the benchmarks run as processes beside pixelbot.

`python -m benchmarks.servers bare --port P`: a bare Bolt app whose listeners only ack, on
the same stack as `pixelbot serve` (the `Server` ASGI class, uvicorn with the same options).
`python -m benchmarks.servers fake-slack`: the tests' fake Slack Web API; prints its port.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
from types import FrameType
from typing import Any

import uvicorn
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs
from bot.config import Settings, load_settings
from bot.server import Server
from bot.slack.ids import COMMAND, Action
from bot.store.db import create_engine
from tests.fakes.slack import FakeSlack

FAKE_SLACK_READY = "fake slack on port"


def bare_app(settings: Settings) -> AsyncApp:
    """An AsyncApp built as `bot.app.create_app` builds it, with listeners that only ack."""
    client = AsyncWebClient(
        token=settings.secret("slack_bot_token"), base_url=settings.slack_api_url
    )
    app = AsyncApp(
        client=client,
        signing_secret=settings.secret("slack_signing_secret"),
        installation_store=None,
    )

    @app.command(COMMAND)
    async def command(ack: AsyncAck) -> None:
        await ack()

    @app.action(Action.APPROVE.value)
    async def approve(ack: AsyncAck) -> None:
        await ack()

    return app


async def serve_bare(host: str, port: int) -> None:
    """Serve the bare app until SIGTERM, configured as `bot.runtime.serve` configures uvicorn."""
    settings = load_settings()
    logs.configure(settings.log_level, [])
    engine = create_engine(settings.database_url)  # for /healthz, as pixelbot's
    secret = settings.secret("slack_signing_secret")
    server = Server(bare_app(settings), engine, signing_secret=secret, on_shutdown=[engine.dispose])
    config = uvicorn.Config(server, host=host, port=port, log_config=None, lifespan="on")
    signal.signal(signal.SIGTERM, _exit_quietly)
    await uvicorn.Server(config).serve()


async def serve_fake_slack(channels: dict[str, dict[str, Any]]) -> None:
    """Run the fake Slack Web API until killed; print its port once it listens."""
    fake = FakeSlack(channels=channels)
    await fake.start()
    print(FAKE_SLACK_READY, fake.port, flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def _exit_quietly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.servers", description=__doc__)
    parser.add_argument("which", choices=["bare", "fake-slack"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--channel", action="append", default=[], help="known channel ids")
    args = parser.parse_args()
    if args.which == "bare":
        asyncio.run(serve_bare("127.0.0.1", args.port))
        return
    signal.signal(signal.SIGTERM, _exit_quietly)
    channels = {c: {"name": c.lower(), "is_member": True} for c in args.channel}
    asyncio.run(serve_fake_slack(channels))


if __name__ == "__main__":
    main()
