"""Assemble and run the bot: database ready, Bolt app, then HTTP (uvicorn) or Socket Mode."""

from __future__ import annotations

import gc
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

import uvicorn
from pydantic import SecretStr

from bot.app import create_app
from bot.config import Settings
from bot.errors import ConfigError
from bot.flows.context import Context
from bot.flows.registry import Registry
from bot.graph.client import GraphClient
from bot.sandbox import Sandbox, create_sandbox
from bot.sandbox_mode import (
    SANDBOX_DATABASE_URL,
    SandboxOptions,
    register_demo_world,
    sandbox_graph_client,
)
from bot.server import Server
from bot.slack.services import Services
from bot.slack.socket_mode import CountedSocketModeHandler
from bot.store import migrate
from bot.store.db import create_engine, session_factory
from bot.tokens import TokenBox
from bot.upkeep import UpkeepLoop, UpkeepOptions

log = logging.getLogger(__name__)

TRY_IT = "pixelbot playground"


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
    sandbox = None
    if options.sandbox is not None:
        sandbox = options.sandbox.instance or create_sandbox()
    box = TokenBox(SecretStr(settings.secret("pixelbot_secret_key")))
    if sandbox is not None and options.sandbox is not None:
        await register_demo_world(Registry(sessions, box), sandbox.world, options.sandbox)
    graph = _graph_client(settings, sandbox)
    flows = Context(sessions, graph, box, allow_self_approval=_self_approval(settings, options))
    return Services(engine, sessions, graph, flows, sandbox=sandbox is not None)


def _graph_client(settings: Settings, sandbox: Sandbox | None) -> GraphClient:
    """The process's one Graph client: Meta at GRAPH_API_URL, or `sandbox` in-process."""
    if sandbox is not None:
        return sandbox_graph_client(sandbox, settings.graph_api_version)
    return GraphClient.for_settings(settings)


def _self_approval(settings: Settings, options: ServeOptions) -> bool:
    """As set; in the sandbox, on unless set, so that one person can try every flow alone."""
    if "pixelbot_allow_self_approval" in settings.model_fields_set or options.sandbox is None:
        return settings.pixelbot_allow_self_approval
    log.info("sandbox: requesters may approve their own requests (PIXELBOT_ALLOW_SELF_APPROVAL)")
    return True


ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


@dataclass(frozen=True)
class Surroundings:
    """What runs around the app (`pixelbot playground`): set-up once the services are built,
    and an ASGI app that takes every request and hands pixelbot's own to it."""

    prepare: Callable[[Services], Awaitable[None]]
    around: Callable[[ASGIApp], ASGIApp]
    stopping: Callable[[], None]  # the exit signal came: end what would hold the shutdown


async def serve(
    settings: Settings, options: ServeOptions, surroundings: Surroundings | None = None
) -> None:
    """Run until SIGINT/SIGTERM, then shut down cleanly."""
    try:
        settings.require("slack_bot_token", "slack_signing_secret")
    except ConfigError as missing:
        raise ConfigError(f"{missing}; or try pixelbot without a Slack app: {TRY_IT}") from None
    settings.require("pixelbot_secret_key")
    if options.socket_mode:
        settings.require("slack_app_token")
    services = await _build_services(settings, options)
    if surroundings is not None:
        await surroundings.prepare(services)
    engine, graph, sandbox = services.engine, services.graph, services.sandbox
    app = create_app(settings, services)
    socket: CountedSocketModeHandler | None = None
    checks = {}
    if options.socket_mode:
        socket = CountedSocketModeHandler(app, settings.secret("slack_app_token"))
        await socket.connect_async()  # type: ignore[no-untyped-call]
        checks["slack_socket"] = socket.client.is_connected  # a coroutine: awaited per probe
    upkeep = UpkeepLoop(
        services.flows,
        app.client,
        UpkeepOptions.of(settings),
        float(settings.pixelbot_reconcile_seconds),
    )
    deadline = Deadline(settings.pixelbot_shutdown_seconds)

    async def finish_background() -> None:
        await services.background.drain(deadline.remaining())

    # Stop taking work, give what is in flight until the deadline, then close the clients.
    on_shutdown: list[Callable[[], Awaitable[None]]] = [
        *([_closer(socket)] if socket is not None else []),
        upkeep.stop,
        services.work.stop_loops,
        finish_background,
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
        surroundings.around(server) if surroundings is not None else server,
        host=options.host,
        port=options.port,
        log_config=None,
        lifespan="on",
        # Open HTTP requests (acks, fast) get the same budget; what outlives it is cut.
        timeout_graceful_shutdown=max(1, round(settings.pixelbot_shutdown_seconds)),
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
    services.work.start_loops()  # jobs a dead process held, and Slack behind the database
    try:
        await _Uvicorn(config, deadline, _on_exit(server, surroundings)).serve()
    finally:
        log.info("pixelbot stopped")


def _on_exit(server: Server, surroundings: Surroundings | None) -> Callable[[], None]:
    def on_exit() -> None:
        server.begin_shutdown()
        if surroundings is not None:
            surroundings.stopping()

    return on_exit


class Deadline:
    """PIXELBOT_SHUTDOWN_SECONDS, counted from the first exit signal (or first asked)."""

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._started: float | None = None

    def start(self) -> None:
        """Start counting, once."""
        if self._started is None:
            self._started = time.monotonic()

    def remaining(self) -> float:
        """Seconds left before the process must be gone."""
        self.start()
        assert self._started is not None
        return max(0.0, self._started + self._seconds - time.monotonic())


class _Uvicorn(uvicorn.Server):
    """uvicorn's server; when SIGTERM or SIGINT arrives, the shutdown clock starts and
    /readyz turns 503 at once (uvicorn runs the lifespan hooks only after it stopped
    listening)."""

    def __init__(
        self, config: uvicorn.Config, deadline: Deadline, on_exit: Callable[[], None]
    ) -> None:
        super().__init__(config)
        self._deadline = deadline
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._deadline.start()
        self._on_exit()
        super().handle_exit(sig, frame)


def _closer(socket: CountedSocketModeHandler) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        await socket.close_async()  # type: ignore[no-untyped-call]

    return close


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
