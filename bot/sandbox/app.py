"""The sandbox as an ASGI app: Meta's routes under `/{version}/...` (any `vNN.N`, or none),
the control API for tests and demos under `/_sandbox/...` (control.py).

The app holds the simulator's `State` and handles only the connection: reading the request,
injected latency and holds, hanging up. In tests:
`httpx.AsyncClient(transport=httpx.ASGITransport(app=create_sandbox()))`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

import httpx

from bot.sandbox.control import handle_control
from bot.sandbox.errors import invalid_param, new_fbtrace_id
from bot.sandbox.faults import FaultRule, Faults
from bot.sandbox.http import (
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
from bot.sandbox.loader import load_demo_world
from bot.sandbox.pipeline import Context, execute, response_headers
from bot.sandbox.router import Operation, split_version
from bot.sandbox.state import CallRecord, State
from bot.sandbox.world import World


class Sandbox:
    """The ASGI app over one `State`; `.world`, `.faults` and `.calls` are the state's."""

    def __init__(
        self, state: State, *, sleep: Callable[[float], Awaitable[None]] | None = None
    ) -> None:
        self.state = state
        # Latency and holds wait with it: tests pass one that returns at once, or never.
        self.sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        # In-process, a dropped connection raises httpx.ReadError in the client as a real
        # socket would; a real server cannot hang up from ASGI, so it answers a bare 502.
        self.drop_raises = True

    @property
    def world(self) -> World:
        """The simulated businesses, pixels, ad accounts and requests."""
        return self.state.world

    @property
    def faults(self) -> Faults:
        """The injected failures; change them freely between calls."""
        return self.state.faults

    @property
    def calls(self) -> list[CallRecord]:
        """Every Graph call seen since the start (or the last reset or clear)."""
        return self.state.calls

    def reset(self) -> None:
        """Back to the world as created: no faults, no calls, no usage."""
        self.state.reset()

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
            headers = response_headers(self.state, None, new_fbtrace_id(), None)
            await send_json(send, 413, {"error": str(exc)}, headers)
            return
        if request.path.startswith("/_sandbox"):
            status, body = handle_control(self.state, request)
            await send_json(
                send, status, body, response_headers(self.state, None, new_fbtrace_id(), None)
            )
            return
        outcome = await self.serve(request, receive)
        if outcome is not None:
            await send_json(send, outcome.status, outcome.body, outcome.headers)

    async def serve(self, request: RawRequest, receive: Receive | None = None) -> Outcome | None:
        """Answer one Meta request; None when the client hung up during an injected hold."""
        await self._pause(self.state.faults.latency_ms)
        prefix, version, path = split_version(request.path)
        context = Context(version, request.base_url + prefix, self.state.clock())
        try:
            params = parse_params(request)
        except BadRequest as exc:
            trace = new_fbtrace_id()
            headers = response_headers(self.state, None, trace, context)
            return Outcome(400, invalid_param(str(exc)).envelope(trace), headers)
        token = bearer_token(request.headers) or params.get("access_token")
        operation = Operation(request.method, path, params, token, params.get("appsecret_proof"))
        outcome = execute(self.state, operation, context)
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
    state = State(
        world if world is not None else load_demo_world(),
        faults if faults is not None else Faults(),
        clock,
    )
    return Sandbox(state, sleep=sleep)
