"""Bolt's Socket Mode handler, counting each request as `POST /slack/events` counts it."""

from __future__ import annotations

import time

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest

from bot import metrics


class CountedSocketModeHandler(AsyncSocketModeHandler):
    """Requests arriving over the socket never pass the HTTP server that counts the others:
    the Slack request counter and the ack histogram are fed here instead."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.perf_counter()
        status = 500  # what an exception escaping Bolt's handler amounts to
        try:
            # Bolt's own handle, with the answer's status kept for the metric.
            response = await run_async_bolt_app(self.app, req)
            status = response.status
            await send_async_response(client, req, response, time.time())
        finally:
            kind = metrics.slack_kind(req.payload if isinstance(req.payload, dict) else {})
            metrics.observe_slack_request(kind, status, time.perf_counter() - started)
