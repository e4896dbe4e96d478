"""Assemble and run the bot: database ready, Bolt app, then HTTP (uvicorn) or Socket Mode."""

from __future__ import annotations

import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import FrameType

import uvicorn
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from bot.app import create_app
from bot.config import Settings
from bot.flows.context import Context
from bot.flows.registry import Registry
from bot.graph.sandbox import create_sandbox
from bot.graph.wiring import graph_client
from bot.sandbox_mode import SANDBOX_DATABASE_URL, SandboxOptions, register_demo_world
from bot.server import Server
from bot.slack.services import Services
from bot.store import migrate
from bot.store.db import create_engine, session_factory
from bot.tokens import TokenBox
from bot.upkeep import UpkeepLoop, UpkeepOptions

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeOptions:
    """How `pixelbot serve` was asked to run."""

    host: str = "127.0.0.1"
    port: int = 3000
    socket_mode: bool = False
    sandbox: SandboxOptions | None = None  # Meta simulated in-process


async def _build_services(settings: Settings, options: ServeOptions) -> Services:
    """Database ready, Graph client built (wired to the sandbox when asked)."""
    if options.sandbox is not None and "database_url" not in settings.model_fields_set:
        # Keep simulated businesses and tokens out of the real database.
        settings = settings.model_copy(update={"database_url": SANDBOX_DATABASE_URL})
    await migrate.ensure_schema(settings.database_url)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    sandbox = create_sandbox() if options.sandbox is not None else None
    box = TokenBox(SecretStr(settings.secret("pixelbot_secret_key")))
    if sandbox is not None and options.sandbox is not None:
        await register_demo_world(Registry(sessions, box), sandbox.world, options.sandbox)
    graph = graph_client(
        settings.graph_api_url, settings.graph_api_version, settings.meta_app_secret, sandbox
    )
    flows = Context(sessions, graph, box, allow_self_approval=_self_approval(settings, options))
    return Services(engine, sessions, graph, flows, sandbox=sandbox is not None)


def _self_approval(settings: Settings, options: ServeOptions) -> bool:
    """As set; in the sandbox, on unless set, so that one person can try every flow alone."""
    if "pixelbot_allow_self_approval" in settings.model_fields_set or options.sandbox is None:
        return settings.pixelbot_allow_self_approval
    log.info("sandbox: requesters may approve their own requests (PIXELBOT_ALLOW_SELF_APPROVAL)")
    return True


async def serve(settings: Settings, options: ServeOptions) -> None:
    """Run until SIGINT/SIGTERM, then shut down cleanly."""
    settings.require("slack_bot_token", "slack_signing_secret", "pixelbot_secret_key")
    if options.socket_mode:
        settings.require("slack_app_token")
    services = await _build_services(settings, options)
    engine, graph, sandbox = services.engine, services.graph, services.sandbox
    app = create_app(settings, services)
    socket: AsyncSocketModeHandler | None = None
    checks = {}
    if options.socket_mode:
        socket = AsyncSocketModeHandler(app, settings.secret("slack_app_token"))
        await socket.connect_async()  # type: ignore[no-untyped-call]
        checks["slack_socket"] = lambda: bool(socket and socket.client.is_connected())
    upkeep = UpkeepLoop(
        services.flows,
        app.client,
        UpkeepOptions.of(settings),
        float(settings.pixelbot_reconcile_seconds),
    )
    # Background work is finished (or cut short by uvicorn's timeout) before closing clients.
    on_shutdown: list[Callable[[], Awaitable[None]]] = [
        upkeep.stop,
        services.background.drain,
        graph.aclose,
        engine.dispose,
    ]
    server = Server(
        app,
        engine,
        signing_secret=settings.secret("slack_signing_secret"),
        extra_checks=checks,
        on_shutdown=on_shutdown,
    )
    config = uvicorn.Config(
        server, host=options.host, port=options.port, log_config=None, lifespan="on"
    )
    mode = "Socket Mode" if socket else f"HTTP on http://{options.host}:{options.port}"
    mode += ", Graph API simulated in-process (sandbox)" if sandbox else ""
    log.info("pixelbot serving (%s); health at /healthz", mode)
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal to the handler it
    # found; ours turns that into a normal exit instead of death by signal.
    signal.signal(signal.SIGTERM, _exit_quietly)
    _tune_garbage_collector()
    if settings.pixelbot_reconcile_seconds > 0:
        upkeep.start()  # its first pass finishes whatever a previous process left in flight
    try:
        await uvicorn.Server(config).serve()
    finally:
        if socket is not None:
            await socket.close_async()  # type: ignore[no-untyped-call]
        log.info("pixelbot stopped")


def _tune_garbage_collector() -> None:
    """Fewer, cheaper collections: acks are delayed by the collector's pauses, not by work.

    What start-up built (modules, the app) lives as long as the process: frozen, it is no
    longer traversed by every full collection; a higher first threshold collects the many
    short-lived objects of each request in larger, rarer batches.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def _exit_quietly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)
