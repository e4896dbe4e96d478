"""A running pixelbot in-process: signed Slack requests in, fake Slack and the Graph sandbox out.

The demo world: Acme Shoes owns the pixels; Bright Agency is already Acme's partner (shares
happen at once); Nova Media is not (shares wait for Nova's approval).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.app import create_app
from bot.config import Settings
from bot.flows.registry import Registry
from bot.sandbox import Sandbox, create_sandbox
from bot.server import Server
from bot.slack.services import Services
from bot.store.models import AuditEvent, ShareRequest
from bot.tokens import TokenBox
from tests.conftest import SECRET_KEY
from tests.fakes.slack import FakeSlack
from tests.services import PoolWatch, make_services
from tests.signing import action_body, command_body, event_body, signed_headers, view_body

ACME, BRIGHT, NOVA = "100200300400501", "100200300400502", "100200300400503"
WEBSITE, CHECKOUT, OUTLET = "300400500600701", "300400500600702", "300400500600703"
OWNER, OWNER2 = "U0ACMEOWN1", "U0ACMEOWN2"
NOVA_ADMIN, NOVA_ADMIN2 = "U0NOVAADM1", "U0NOVAADM2"
BRIGHT_ADMIN = "U0BRIGHTA1"
STRANGER = "U0STRANGE1"
NOVA_CHANNEL, BRIGHT_CHANNEL = "C0NOVAAPPR", "C0BRIGHTAP"


def texts(message: Any) -> str:
    """Every piece of text in a message or view (fallback, blocks, buttons), joined."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message)
    return "\n".join(found)


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """action_id -> value of every button in a message."""
    return {
        element["action_id"]: element.get("value", "")
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
    }


@dataclass
class Exchange:
    """One request to the app: Slack's HTTP answer and what was posted to its response_url."""

    response: httpx.Response
    posted: list[dict[str, Any]]

    @property
    def ack(self) -> dict[str, Any]:
        return self.response.json() if self.response.content else {}

    @property
    def last(self) -> dict[str, Any]:
        assert self.posted, f"nothing was posted to the response_url (ack: {self.ack})"
        return self.posted[-1]

    @property
    def text(self) -> str:
        return texts(self.last)


@dataclass
class Bot:
    http: httpx.AsyncClient
    services: Services
    sandbox: Sandbox
    slack: FakeSlack
    pool: PoolWatch
    _names: itertools.count[int] = field(default_factory=itertools.count)

    async def _post(self, body: str) -> httpx.Response:
        response = await self.http.post("/slack/events", content=body, headers=signed_headers(body))
        assert response.status_code == 200, response.text
        await self.services.background.drain()
        return response

    async def command(self, text: str, user: str = OWNER) -> Exchange:
        """Type `/pixel text` as `user`."""
        name = f"cmd{next(self._names)}"
        response = await self._post(command_body(text, user, self.slack.response_url(name)))
        return Exchange(response, self.slack.posted_to(name))

    async def click(
        self, action: str, value: str, user: str, *, channel: str = NOVA_CHANNEL, ts: str = "1.1"
    ) -> Exchange:
        """Click a button as `user`."""
        name = f"click{next(self._names)}"
        body = action_body(
            action, value, user, self.slack.response_url(name), channel=channel, message_ts=ts
        )
        return Exchange(await self._post(body), self.slack.posted_to(name))

    async def submit(
        self, callback: str, values: dict[str, Any], user: str, metadata: str = ""
    ) -> httpx.Response:
        """Submit a modal as `user`."""
        return await self._post(view_body(callback, values, user, metadata))

    async def event(self, event: dict[str, Any], event_id: str = "Ev0001") -> httpx.Response:
        """Deliver an Events API event."""
        body = event_body(event, event_id)
        headers = signed_headers(body) | {"content-type": "application/json"}
        response = await self.http.post("/slack/events", content=body, headers=headers)
        assert response.status_code == 200
        await self.services.background.drain()
        return response

    def posts(self, channel: str) -> list[dict[str, Any]]:
        """chat.postMessage calls to a channel (or a user's DM), thread replies included."""
        return [
            c.params
            for c in self.slack.calls_to("chat.postMessage")
            if c.params.get("channel") == channel
        ]

    async def requests(self) -> list[ShareRequest]:
        async with self.services.sessions() as session:
            return list(
                (await session.scalars(select(ShareRequest).order_by(ShareRequest.id))).all()
            )

    async def audit(self) -> list[AuditEvent]:
        async with self.services.sessions() as session:
            return list((await session.scalars(select(AuditEvent).order_by(AuditEvent.id))).all())

    def graph_calls(self, method: str, path_end: str) -> list[Any]:
        """Calls the sandbox received, by method and the end of the path."""
        return [c for c in self.sandbox.calls if c.method == method and c.path.endswith(path_end)]


MakeBot = Callable[..., Awaitable[Bot]]


@pytest.fixture
async def make_bot(
    settings: Settings, engine: AsyncEngine, fake_slack: FakeSlack
) -> AsyncIterator[MakeBot]:
    """Build a bot; `register_nova=False` leaves Nova unknown to pixelbot."""
    clients: list[httpx.AsyncClient] = []

    async def build(*, register_nova: bool = True, allow_self_approval: bool = False) -> Bot:
        sandbox = create_sandbox()
        watch = PoolWatch(sandbox, engine)
        services = make_services(
            engine, sandbox, allow_self_approval=allow_self_approval, watch=watch
        )
        registry = Registry(services.sessions, TokenBox(SecretStr(SECRET_KEY)))
        world = sandbox.world
        businesses = [(ACME, None), (BRIGHT, BRIGHT_CHANNEL)]
        if register_nova:
            businesses.append((NOVA, NOVA_CHANNEL))
        for business_id, channel in businesses:
            token = SecretStr(world.token_for(business_id))
            await registry.add_business(
                business_id, world.businesses[business_id].name, channel, token
            )
        grants = [(OWNER, ACME), (OWNER2, ACME), (BRIGHT_ADMIN, BRIGHT)]
        if register_nova:
            grants += [(NOVA_ADMIN, NOVA), (NOVA_ADMIN2, NOVA)]
        for user, business_id in grants:
            await registry.grant_admin(user, business_id)
        secret = settings.secret("slack_signing_secret")
        server = Server(create_app(settings, services), engine, signing_secret=secret)
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=server), base_url="http://pixelbot"
        )
        clients.append(http)
        return Bot(http, services, sandbox, fake_slack, watch)

    yield build
    for client in clients:
        await client.aclose()


@pytest.fixture
async def bot(make_bot: MakeBot) -> Bot:
    """The usual bot: Acme, Bright and Nova registered, with admins and channels."""
    return await make_bot()


def approval_posts(bot: Bot, channel: str = NOVA_CHANNEL) -> list[dict[str, Any]]:
    """Top-level approval messages posted in a channel (not thread replies)."""
    return [p for p in bot.posts(channel) if not p.get("thread_ts")]


def blocks_of(params: dict[str, Any]) -> dict[str, Any]:
    """A recorded Web API call's message, with `blocks` decoded when sent as JSON text."""
    blocks = params.get("blocks")
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return {"text": params.get("text"), "blocks": blocks or []}
