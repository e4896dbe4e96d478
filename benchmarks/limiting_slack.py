"""The tests' fake Slack Web API with Slack's rate limit in it: every Nth call of each method
is an HTTP 429 with Retry-After. It sorts what it accepted by place (a request's approval
card, its redraw, its thread reply, its requester's DM) to tell what Slack shows and what it
was sent twice."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.slack import FakeSlack

_REQUEST = re.compile(r"request #(\d+)")

# A place in Slack: ("card", request id), ("update", request id), ("thread", thread_ts) or
# ("dm", request id).
Place = tuple[str, str]


@dataclass
class LimitingSlack(FakeSlack):
    """Start with `await slack.start()`; `shown` is every place Slack accepted a call for."""

    every: int = 10  # every Nth call of a method is rate-limited
    retry_after: int = 1  # seconds, as Slack's Retry-After header says
    approvals_channel: str = ""
    attempts: Counter[str] = field(default_factory=Counter)  # by method, 429s included
    limited: int = 0  # 429s answered
    shown: set[Place] = field(default_factory=set)
    repeated: list[Place] = field(default_factory=list)  # accepted again after the first
    unplaced: int = 0  # accepted calls that match no place (there should be none)

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.attempts[method] += 1
        if self.attempts[method] % self.every == 0:
            self.limited += 1
            body = {"ok": False, "error": "ratelimited"}
            headers = {"Retry-After": str(self.retry_after)}
            return web.json_response(body, status=429, headers=headers)
        response = await super()._api(request)
        # No await between the parent recording the call and answering: the last one is it.
        call = self.calls[-1]
        if response.status == 200 and method in ("chat.postMessage", "chat.update"):
            self._accepted(method, call.params)
        return response

    def _accepted(self, method: str, params: dict[str, Any]) -> None:
        place = self.place(method, params)
        if place is None:
            self.unplaced += 1
        elif place in self.shown:
            self.repeated.append(place)
        else:
            self.shown.add(place)

    def place(self, method: str, params: dict[str, Any]) -> Place | None:
        """Which place an accepted call fills."""
        if method == "chat.postMessage" and params.get("thread_ts"):
            return ("thread", str(params["thread_ts"]))
        found = _REQUEST.search(str(params.get("text") or ""))
        if found is None:
            return None
        if method == "chat.update":
            return ("update", found.group(1))
        kind = "card" if params.get("channel") == self.approvals_channel else "dm"
        return (kind, found.group(1))

    @property
    def calls_made(self) -> int:
        """Web API calls received, 429s included."""
        return sum(self.attempts.values())
