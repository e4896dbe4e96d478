"""`pixelbot playground`: the real pixelbot app between a local Slack (this package) and
the Graph sandbox, all in one process on 127.0.0.1, with a Slack-like page at `/`.

One port serves everything: pixelbot's own routes (`/slack/events`, the probes), the local
Slack's Web API (`/api/...`, where SLACK_API_URL points) and response_urls (`/hooks/...`),
the Graph sandbox and its control API (`/graph/...`, for the page's Meta panel), and the
page (`/`, `/static/...`, `/play/...`). What a person does on the page reaches pixelbot as
a signed request over loopback HTTP, the path Slack's requests take in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr

from bot.config import Settings
from bot.flows.registry import Registry
from bot.playground.cast import APPROVALS, PEOPLE
from bot.playground.outgoing import Outgoing
from bot.playground.page import PageApi
from bot.playground.slack_state import SlackError, Workspace
from bot.playground.web_api import call
from bot.runtime import ASGIApp, ServeOptions, Surroundings, serve
from bot.sandbox import Sandbox, create_sandbox
from bot.sandbox.http import BadRequest, Receive, Scope, Send, read_request, send_json
from bot.sandbox_mode import SandboxOptions
from bot.slack.services import Services
from bot.slack.web_client import web_client
from bot.upkeep import UpkeepOptions, upkeep_pass

log = logging.getLogger(__name__)

DATABASE_FILE = "pixelbot-playground.db"
KEY_FILE = "pixelbot-playground.key"  # encrypts the simulated Meta tokens in the database
PIXELBOT_PATHS = ("/slack/", "/healthz", "/readyz", "/metrics")
_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
}


@dataclass
class Playground:
    """The stand-ins around pixelbot, and the routing of one port between them."""

    port: int
    slack: Workspace = field(default_factory=Workspace)
    sandbox: Sandbox = field(default_factory=create_sandbox)
    token: str = field(default_factory=lambda: f"xoxb-playground-{secrets.token_hex(12)}")
    services: Services | None = None

    def stop_feeds(self) -> None:
        """The process is exiting: end every live feed (the browser reconnects elsewhere)."""
        self.stopping.set()

    def __post_init__(self) -> None:
        self.stopping = asyncio.Event()
        base = f"http://127.0.0.1:{self.port}"
        self.http = httpx.AsyncClient(timeout=30)
        self.outgoing = Outgoing(self.slack, self.http, f"{base}/slack/events", base)
        self.page = PageApi(self.slack, self.outgoing, self._reconcile)

    def settings(self, folder: Path, key: str) -> Settings:
        """pixelbot's settings: Slack is this playground, Meta the sandbox in-process."""
        return Settings(
            slack_bot_token=SecretStr(self.token),
            slack_signing_secret=SecretStr(self.outgoing.signing_secret),
            slack_api_url=f"http://127.0.0.1:{self.port}/api/",
            database_url=f"sqlite:///{folder / DATABASE_FILE}",
            pixelbot_secret_key=SecretStr(key),
            pixelbot_allow_self_approval=False,
            pixelbot_reconcile_seconds=60,
            host="127.0.0.1",
            port=self.port,
        )

    async def prepare(self, services: Services) -> None:
        """Each demo business with its approvals channel, each demo person with theirs."""
        self.services = services
        registry = Registry(services.sessions, services.flows.box)
        world = self.sandbox.world
        for business in world.businesses.values():
            token = SecretStr(world.token_for(business.id))
            channel = APPROVALS.get(business.id)
            await registry.add_business(business.id, business.name, channel, token, replace=True)
        for person in PEOPLE:
            if person.business is not None:
                with contextlib.suppress(Exception):  # granted by an earlier run
                    await registry.grant_admin(person.id, person.business)

    async def _reconcile(self) -> list[str]:
        """One upkeep pass now, as the periodic one would run (the Meta panel's button)."""
        assert self.services is not None
        client = web_client(self.token, f"http://127.0.0.1:{self.port}/api/")
        report = await upkeep_pass(self.services.flows, client, UpkeepOptions(remind_after=None))
        return report.lines()

    def around(self, pixelbot: ASGIApp) -> ASGIApp:
        """The one ASGI app of the port."""

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            path = scope.get("path", "")
            if scope["type"] != "http" or path.startswith(PIXELBOT_PATHS):
                await pixelbot(scope, receive, send)
            elif path == "/graph" or path.startswith("/graph/"):
                await self.sandbox({**scope, "root_path": "/graph"}, receive, send)
            elif path == "/play/live":
                await self._live(scope, receive, send)
            else:
                await self._local(scope, receive, send)

        return app

    async def _local(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            request = await read_request(scope, receive)
        except BadRequest as bad:
            await send_json(send, 400, {"error": str(bad)}, [])
            return
        path = request.path
        if path.startswith("/api/") and request.method == "POST":
            answer = await call(self.slack, self.token, path.removeprefix("/api/"), request)
            await send_json(send, 200, answer, [])
        elif path.startswith("/hooks/") and request.method == "POST":
            await self._hook(path.removeprefix("/hooks/"), request.body, send)
        elif path.startswith("/play/"):
            status, body = await self.page.handle(request)
            await send_json(send, status, body, [("cache-control", "no-store")])
        elif request.method == "GET":
            await _static("index.html" if path == "/" else path.removeprefix("/static/"), send)
        else:
            await send_json(send, 405, {"error": "method not allowed"}, [])

    async def _hook(self, token: str, body: bytes, send: Send) -> None:
        """A response_url: Slack answers 200 "ok", or 404 with the reason once spent."""
        try:
            parsed = json.loads(body or b"{}")
            await self.slack.respond(token, parsed if isinstance(parsed, dict) else {})
        except SlackError as refused:
            await _text(send, 404, refused.error)
            return
        except ValueError:
            await _text(send, 400, "invalid_payload")
            return
        await _text(send, 200, "ok")

    async def _live(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Server-sent events: the workspace's version, whenever it changes."""
        headers = [
            (b"content-type", b"text/event-stream"),
            (b"cache-control", b"no-store"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        gone = asyncio.create_task(_disconnected(receive))
        stop = asyncio.ensure_future(self.stopping.wait())
        try:
            while not gone.done() and not stop.done():
                bell = self.slack.bell
                chunk = f"data: {self.slack.version}\n\n".encode()
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                rung = asyncio.ensure_future(bell.wait())
                await asyncio.wait({rung, gone, stop}, timeout=15, return_when="FIRST_COMPLETED")
                rung.cancel()
        except OSError:
            pass
        finally:
            gone.cancel()
            stop.cancel()
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _text(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _static(name: str, send: Send) -> None:
    """A file of the page, shipped inside the package (no build step)."""
    folder = resources.files("bot.playground") / "static"
    suffix = Path(name).suffix
    if "/" in name or name.startswith(".") or suffix not in _STATIC_TYPES:
        await _text(send, 404, "not found")
        return
    file = folder / name
    if not file.is_file():
        await _text(send, 404, "not found")
        return
    body = file.read_bytes()
    headers = [
        (b"content-type", _STATIC_TYPES[suffix].encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _key(folder: Path) -> str:
    """The playground's Fernet key, made once and kept beside its database."""
    path = folder / KEY_FILE
    if path.exists():
        return path.read_text().strip()
    key = Fernet.generate_key().decode()
    path.touch(mode=0o600)
    path.write_text(key)
    return key


def reset(folder: Path) -> None:
    """Forget everything a previous playground kept here."""
    for name in (DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm", KEY_FILE):
        (folder / name).unlink(missing_ok=True)


class _NoCapabilities(logging.Filter):
    """A response_url is a bearer capability: its path is never written to the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's access record: (client, method, path, HTTP version, status)
        args = list(record.args) if isinstance(record.args, tuple) else []
        if len(args) > 2 and str(args[2]).startswith("/hooks/"):
            args[2] = "/hooks/…"
            record.args = tuple(args)
        return True


async def run_playground(port: int, folder: Path, *, fresh: bool) -> None:
    """Serve the playground on 127.0.0.1:`port` until SIGINT/SIGTERM."""
    if fresh:
        reset(folder)
    logging.getLogger("uvicorn.access").addFilter(_NoCapabilities())
    playground = Playground(port)
    settings = playground.settings(folder, _key(folder))
    options = ServeOptions(
        host="127.0.0.1", port=port, sandbox=SandboxOptions(instance=playground.sandbox)
    )
    log.info("pixelbot playground on http://127.0.0.1:%s/ (a local Slack; Meta simulated)", port)
    try:
        await serve(
            settings,
            options,
            Surroundings(playground.prepare, playground.around, playground.stop_feeds),
        )
    finally:
        await playground.http.aclose()
