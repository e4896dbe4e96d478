"""A stateful simulator of Meta's Graph API for pixel sharing ("the sandbox"), as an ASGI app.

In tests: `httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sandbox()))`.
As a server: `run_sandbox(host, port, world_path, faults)` (`pixelbot sandbox`).
Meta routes live under `/{version}/...` (any `vNN.N`, or none); the control API for tests
and demos under `/_sandbox/...` (see sandbox_control.py).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import signal
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import httpx
import uvicorn

from bot.graph.sandbox_batch import Operation, split_version
from bot.graph.sandbox_control import handle_control
from bot.graph.sandbox_errors import invalid_param, new_fbtrace_id
from bot.graph.sandbox_faults import FaultRule, Faults, faults_from_cli
from bot.graph.sandbox_http import (
    BadRequest,
    Outcome,
    RawRequest,
    Receive,
    Scope,
    Send,
    bearer_token,
    lifespan,
    parse_params,
    read_request,
    send_json,
)
from bot.graph.sandbox_loader import load_demo_world, load_world
from bot.graph.sandbox_pipeline import ROUTES, CallRecord, Context, execute, response_headers
from bot.graph.sandbox_usage import UsageMeter
from bot.graph.sandbox_world import World

__all__ = [
    "ROUTES",
    "CallRecord",
    "Faults",
    "Sandbox",
    "World",
    "create_sandbox",
    "faults_from_cli",
    "run_sandbox",
]

log = logging.getLogger(__name__)


class Sandbox:
    """The ASGI app; tests read and change `.world`, `.faults` and `.calls` directly."""

    def __init__(
        self,
        world: World,
        faults: Faults,
        *,
        clock: Callable[[], datetime] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.world = world
        self.faults = faults
        self.calls: list[CallRecord] = []
        self.usage = UsageMeter()
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        # In-process, a dropped connection raises httpx.ReadError in the client as a real
        # socket would; a real server cannot hang up from ASGI, so it answers a bare 502.
        self.drop_raises = True
        self._initial = copy.deepcopy(world)

    def reset(self) -> None:
        """Back to the world as created: no faults, no calls, no usage."""
        self.world = copy.deepcopy(self._initial)
        self.faults.clear()
        self.calls.clear()
        self.usage.reset()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            request = await read_request(scope, receive)
        except BadRequest as exc:
            headers = response_headers(self, None, new_fbtrace_id(), None)
            await send_json(send, 413, {"error": str(exc)}, headers)
            return
        if request.path.startswith("/_sandbox"):
            status, body = handle_control(self, request)
            await send_json(
                send, status, body, response_headers(self, None, new_fbtrace_id(), None)
            )
            return
        outcome = await self.serve(request, receive)
        if outcome is not None:
            await send_json(send, outcome.status, outcome.body, outcome.headers)

    async def serve(self, request: RawRequest, receive: Receive | None = None) -> Outcome | None:
        """Answer one Meta request; None when the client hung up during an injected hold."""
        await self._pause(self.faults.latency_ms)
        prefix, version, path = split_version(request.path)
        context = Context(version, request.base_url + prefix, self.clock())
        try:
            params = parse_params(request)
        except BadRequest as exc:
            trace = new_fbtrace_id()
            headers = response_headers(self, None, trace, context)
            return Outcome(400, invalid_param(str(exc)).envelope(trace), headers)
        token = bearer_token(request.headers) or params.get("access_token")
        operation = Operation(request.method, path, params, token, params.get("appsecret_proof"))
        outcome = execute(self, operation, context)
        if outcome.fault is None:
            return outcome
        return await self._hold(outcome, outcome.fault, receive)

    async def _hold(
        self, outcome: Outcome, fault: FaultRule, receive: Receive | None
    ) -> Outcome | None:
        if await self._client_left_within(fault.hold_ms, receive):
            return None
        if fault.kind == "timeout":
            outcome.fault = None
            return outcome
        if self.drop_raises:
            raise httpx.ReadError("the sandbox dropped the connection (injected fault)")
        return Outcome(502, None, [])

    async def _client_left_within(self, hold_ms: int, receive: Receive | None) -> bool:
        """Wait `hold_ms`; True as soon as the client disconnects (its own timeout fired)."""
        if receive is None or hold_ms == 0:
            await self._pause(hold_ms)
            return False
        sleeper = asyncio.ensure_future(self._pause(hold_ms))
        listener = asyncio.ensure_future(_disconnect(receive))
        done, pending = await asyncio.wait({sleeper, listener}, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return listener in done

    async def _pause(self, milliseconds: int) -> None:
        if milliseconds > 0:
            await self.sleep(milliseconds / 1000)


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


def create_sandbox(
    world: World | None = None,
    faults: Faults | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> Sandbox:
    """A sandbox over `world` (default: the demo world) with `faults` (default: none)."""
    return Sandbox(
        world if world is not None else load_demo_world(),
        faults if faults is not None else Faults(),
        clock=clock,
        sleep=sleep,
    )


def run_sandbox(host: str, port: int, world_path: Path | None, faults: Faults) -> None:
    """Serve the sandbox with uvicorn until interrupted (bind to loopback: no auth on control)."""
    world = load_world(world_path) if world_path is not None else load_demo_world()
    sandbox = create_sandbox(world, faults)
    sandbox.drop_raises = False
    names = ", ".join(f"{b.name} ({b.id})" for b in world.businesses.values())
    source = world_path or "the demo world"
    # Tokens are never logged: they are in the world file for whoever runs the demo.
    log.info("Graph sandbox on http://%s:%s, world %s: %s", host, port, source, names)
    # uvicorn's access log prints query strings, where Meta-style clients put access_token;
    # the sandbox logs each call itself, without the query.
    # uvicorn re-raises SIGTERM after its graceful shutdown; that is a normal exit here.
    signal.signal(signal.SIGTERM, _exit_quietly)
    uvicorn.run(sandbox, host=host, port=port, log_level="info", lifespan="on", access_log=False)


def _exit_quietly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)
