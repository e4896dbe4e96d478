"""One crash case's world, all real processes on loopback: the Graph sandbox (Meta's state
outlives every bot), `pixelbot serve` processes on one database, the fake Slack and the
Graph proxy in the test.

Every bot reaches Meta through the proxy. The first never recovers its own claims (its
claim lease is long: Meta may hold an answer while the test aims the kill); every later bot
has short leases, so that recovery is quick.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store.db import create_engine
from bot.store.models import Job, ShareRequest
from tests import secrets_guard
from tests.conftest import SECRET_KEY
from tests.crash.cast import WORLD_FILE
from tests.crash.database import job_rows, share_rows
from tests.crash.graph_proxy import GraphProxy
from tests.crash.slack import HeldSlack
from tests.fakes.slack import BOT_TOKEN
from tests.processes import Running, free_port, run_pixelbot, wait_answering
from tests.signing import SIGNING_SECRET, signed_headers

STARTUP_SECONDS = 60.0  # many processes start at once on few cores
FIRST_BOT = {
    "PIXELBOT_JOB_LEASE_SECONDS": "3",
    "PIXELBOT_CLAIM_LEASE_SECONDS": "600",
    "PIXELBOT_RECONCILE_SECONDS": "600",
}
RECOVERING_BOT = {
    "PIXELBOT_JOB_LEASE_SECONDS": "3",
    "PIXELBOT_CLAIM_LEASE_SECONDS": "2",
    "PIXELBOT_RECONCILE_SECONDS": "1",
}


@dataclass
class Bot:
    """One `pixelbot serve` process."""

    running: Running
    port: int

    @property
    def events(self) -> str:
        """Where Slack posts commands and clicks."""
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, whatever was in flight stays as it was."""
        if self.running.proc.returncode is None:
            self.running.proc.send_signal(signal.SIGKILL)
        await self.running.proc.wait()

    async def stop(self) -> str:
        """SIGTERM; fails unless it exits 0 without a traceback. Its output."""
        status, output = await self.running.stop()
        assert status == 0, f"exit {status}:\n{output}"
        assert "Traceback" not in output, output
        return output


@dataclass
class World:
    """Everything one case runs against; see the module docstring."""

    database_url: str
    folder: Path
    slack: HeldSlack
    sandbox: Running
    graph_url: str
    proxy: GraphProxy
    engine: AsyncEngine
    http: httpx.AsyncClient
    bots: list[Bot] = field(default_factory=list)

    def env(self, first: bool) -> dict[str, str]:
        """A bot's environment (nothing inherited but PATH)."""
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": self.slack.base_url,
            "DATABASE_URL": self.database_url,
            "PIXELBOT_SECRET_KEY": SECRET_KEY,
            "PIXELBOT_REMIND_AFTER_HOURS": "0",
            "GRAPH_API_URL": self.proxy.url,
            **(FIRST_BOT if first else RECOVERING_BOT),
        }

    async def start_bot(self, *, first: bool) -> Bot:
        """Start `pixelbot serve` and wait until it answers /healthz."""
        port = free_port()
        log = self.folder / f"serve{len(self.bots) + 1}.log"
        running = await Running.start(self.env(first), log, "serve", "--port", str(port))
        bot = Bot(running, port)
        self.bots.append(bot)
        await _answering(running, f"http://127.0.0.1:{port}/healthz")
        return bot

    async def reconcile(self) -> str:
        """`pixelbot reconcile`: one upkeep pass (recovery included), as an operator runs it."""
        return await run_pixelbot(self.env(first=False), "reconcile")

    async def post(self, bot: Bot, body: str) -> httpx.Response:
        """Deliver a signed Slack request; fails unless it is acked."""
        response = await self.http.post(bot.events, content=body, headers=signed_headers(body))
        assert response.status_code == 200, response.text
        return response

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        """The sandbox's control API (`/_sandbox/...`)."""
        response = await self.http.request(method, self.graph_url + path, json=body)
        response.raise_for_status()
        return response.json()

    async def calls(self) -> list[dict[str, Any]]:
        """Every Graph call the sandbox saw."""
        return list((await self.control("GET", "/_sandbox/calls"))["calls"])

    async def rows(self) -> list[ShareRequest]:
        """The share requests in the database."""
        return await share_rows(self.engine)

    async def jobs(self) -> list[Job]:
        """The jobs in the database."""
        return await job_rows(self.engine)

    async def sandbox_up(self) -> None:
        """Wait until the sandbox answers (it starts with the world, beside the first bot)."""
        await _answering(self.sandbox, f"{self.graph_url}/_sandbox/world")

    def logs(self, tail: int | None = 6000) -> str:
        """Every process's output (the last `tail` characters of each), for a failure."""
        parts = [self.sandbox.log, *(b.running.log for b in self.bots)]
        cut = -tail if tail else 0
        logs = [f"--- {p.name}\n{p.read_text()[cut:]}" for p in parts if p.exists()]
        seen = [f"{c.method} {c.params.get('channel', '')}" for c in self.slack.calls]
        return "\n".join([*logs, f"--- the fake Slack was called: {seen}"])


async def until(
    check: Callable[[], Awaitable[bool]], seconds: float, what: str, every: float = 0.05
) -> None:
    """Poll `check` every `every` seconds until it holds; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:g} s: {what}")
        await asyncio.sleep(every)


async def _answering(running: Running, url: str) -> None:
    """Until `url` answers; fails with the process's output."""
    try:
        await wait_answering(url, running.proc, STARTUP_SECONDS)
    except AssertionError as failed:
        raise AssertionError(f"{failed}\n{running.log.read_text()}") from None


@contextlib.asynccontextmanager
async def open_world(database_url: str, folder: Path) -> AsyncIterator[World]:
    """The sandbox starting, the fake Slack and the proxy up; at the end, every process
    ended and nothing they logged or sent to Slack holds a secret."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    slack = HeldSlack()
    await slack.start()
    graph_port = free_port()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    sandbox = await Running.start(
        env,
        folder / "sandbox.log",
        "sandbox",
        "--port",
        str(graph_port),
        "--world",
        str(WORLD_FILE),
    )
    proxy = GraphProxy(graph_port)
    await proxy.start()
    engine = create_engine(database_url)
    http = httpx.AsyncClient(timeout=30)
    graph_url = f"http://127.0.0.1:{graph_port}"
    world = World(database_url, folder, slack, sandbox, graph_url, proxy, engine, http)
    try:
        yield world
        found = secrets_guard.leaks(
            [*secrets_guard.slack_traffic(slack), world.logs(tail=None)], secrets_guard.KNOWN
        )
        assert not found, "secrets leaked: " + "; ".join(found)
    finally:
        for bot in world.bots:
            await bot.kill()
        slack.drop_all()
        await proxy.stop()
        with contextlib.suppress(Exception):
            await sandbox.stop()
        await http.aclose()
        await engine.dispose()
        await slack.stop()
