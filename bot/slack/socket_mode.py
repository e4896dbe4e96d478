"""Bolt's Socket Mode handler, counting each request as `POST /slack/events` counts it."""

from __future__ import annotations

import logging
import time

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot import metrics
from bot.slack import shapes

log = logging.getLogger(__name__)


class CountedSocketModeHandler(AsyncSocketModeHandler):
    """Requests arriving over the socket never pass the HTTP server that counts the others:
    the Slack request counter and the ack histogram are fed here instead, and a payload is
    shape-checked as the gate checks HTTP bodies (Slack sent it, but Bolt and the listeners
    index it unguarded: an odd shape would be a crash, never an answer)."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        started = time.perf_counter()
        status = 500  # what an exception escaping Bolt's handler amounts to
        try:
            try:
                if not isinstance(req.payload, dict):
                    raise shapes.Malformed("this request's payload is not a JSON object")
                shapes.check(req.payload)
            except shapes.Malformed as exc:
                status = 400
                log.warning("Socket Mode: refused a payload: %s", exc)
                # Acknowledged all the same, so that Slack does not send it again.
                await client.send_socket_mode_response(SocketModeResponse(req.envelope_id))
                return
            # Bolt's own handle, with the answer's status kept for the metric.
            response = await run_async_bolt_app(self.app, req)
            status = response.status
            await send_async_response(client, req, response, time.time())
        finally:
            kind = metrics.slack_kind(req.payload if isinstance(req.payload, dict) else {})
            metrics.observe_slack_request(kind, status, time.perf_counter() - started)
