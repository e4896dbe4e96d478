"""The processes of the ack benchmark, for one database backend, all on loopback: the Graph
sandbox, the fake Slack Web API, a prepared `pixelbot serve`, the same with its jobs held
back (`benchmarks.instrumented --hold-jobs`, its own database) and the bare Bolt app."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.fernet import Fernet
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from benchmarks.processes import (
    REPO,
    Business,
    Processes,
    Started,
    clean_env,
    free_port,
    peak_rss_mb,
    prepare_database,
    wait_http,
    wait_line,
)
from benchmarks.servers import FAKE_SLACK_READY
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.signing import SIGNING_SECRET, command_body, signed_headers

GRAPH_LATENCY_MS = 2000
ACME = Business("100200300400501", "Acme Shoes", "EAASandboxAcmeShoesAdmin0001")
NOVA = Business("100200300400503", "Nova Media", "EAASandboxNovaMediaAdmin0001", "C0NOVAAPPR")
ACME_ADMIN = "U0ACMEADM1"
NOVA_ADMINS = ("U0NOVAADM1", "U0NOVAADM2", "U0NOVAADM3")
PIXELS = ("300400500600701", "300400500600702", "300400500600703")
UNFINISHED = ("queued", "running")


@dataclass
class Server:
    """One server under load: its process and the URL Slack would post to."""

    name: str
    started: Started
    url: str

    @property
    def pid(self) -> int:
        """The process id."""
        return self.started.pid


@dataclass
class Stack:
    """The running servers and what the load needs to know about them."""

    backend: str
    bot: Server  # `pixelbot serve`, as deployed
    bare: Server  # the bare Bolt app
    held: Server  # pixelbot with its jobs held back (benchmarks.instrumented), own database
    slack: FakeSlack  # not started here: it only names the subprocess's response_urls
    pending: list[int]
    bot_idle_mb: float
    bare_idle_mb: float
    db: AsyncEngine  # the benchmark's own view of pixelbot's database

    async def jobs(self) -> dict[str, int]:
        """pixelbot's job rows, counted by status."""
        async with self.db.connect() as conn:
            rows = await conn.execute(text("SELECT status, count(*) FROM jobs GROUP BY status"))
            return {str(status): int(count) for status, count in rows.all()}

    async def unfinished(self) -> int:
        """Jobs queued or running."""
        counts = await self.jobs()
        return sum(counts.get(status, 0) for status in UNFINISHED)


def _bot_env(database_url: str, graph_port: int, slack: FakeSlack) -> dict[str, str]:
    """The environment of the pixelbot processes (CLI and serve)."""
    return clean_env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        PIXELBOT_SECRET_KEY=Fernet.generate_key().decode(),
        DATABASE_URL=database_url,
        GRAPH_API_URL=f"http://127.0.0.1:{graph_port}",
        SLACK_API_URL=slack.base_url,
        PIXELBOT_RECONCILE_SECONDS="0",
        LOG_LEVEL="WARNING",
    )


async def _start_fakes(procs: Processes) -> tuple[int, FakeSlack]:
    """The Graph sandbox (its port) and the fake Slack (a handle naming its URLs)."""
    graph_port = free_port()
    sandbox_args = ["sandbox", "--port", str(graph_port), "--latency-ms", str(GRAPH_LATENCY_MS)]
    sandbox = await procs.start("sandbox", ["-m", "bot", *sandbox_args], clean_env())
    slack_args = ["-m", "benchmarks.servers", "fake-slack", "--channel", NOVA.channel or ""]
    fake = await procs.start("fake-slack", slack_args, clean_env(PYTHONPATH=str(REPO)))
    await wait_http(f"http://127.0.0.1:{graph_port}/_sandbox/faults", sandbox)
    slack_port = int(await wait_line(fake, FAKE_SLACK_READY))
    return graph_port, FakeSlack(port=slack_port)


async def _pending_ids(db: AsyncEngine, url: str, slack: FakeSlack, count: int) -> list[int]:
    """Ask for one share per pixel to Nova (not a partner) and wait until Meta has them pending."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        for pixel in PIXELS[:count]:
            body = command_body(
                f"share {pixel} {NOVA.business_id}", ACME_ADMIN, slack.response_url("setup")
            )
            (await http.post(url, content=body, headers=signed_headers(body))).raise_for_status()
    deadline = time.monotonic() + 60
    query = text("SELECT id FROM share_requests WHERE status = 'pending' ORDER BY id")
    while time.monotonic() < deadline:
        async with db.connect() as conn:
            rows = (await conn.execute(query)).scalars().all()
        if len(rows) >= count:
            return [int(r) for r in rows]
        await asyncio.sleep(0.2)
    raise RuntimeError(f"no {count} pending share requests after 60 s")


async def _serve(procs: Processes, name: str, args: list[str], env: dict[str, str]) -> Server:
    port = free_port()
    started = await procs.start(name, [*args, "--port", str(port)], env)
    return Server(name, started, f"http://127.0.0.1:{port}/slack/events")


async def start_stack(
    procs: Processes,
    backend: str,
    urls: tuple[str, str],
    db: AsyncEngine,
    profile: Path | None = None,
) -> Stack:
    """Sandbox, fake Slack, pixelbot on `urls[0]`, pixelbot with jobs held back on `urls[1]`
    and the bare app, all answering.

    With `profile`, pixelbot runs under `benchmarks.instrumented`, which writes it there. The
    bare app's database only answers its /healthz: it is the same for every backend."""
    tmp = procs.workdir
    graph_port, slack = await _start_fakes(procs)
    env = _bot_env(urls[0], graph_port, slack) | {"PYTHONPATH": str(REPO)}
    held_env = env | {"DATABASE_URL": urls[1]}
    admins = [(ACME_ADMIN, ACME.business_id)] + [(a, NOVA.business_id) for a in NOVA_ADMINS]
    for setup_env in (env, held_env):
        await prepare_database(setup_env, tmp, [ACME, NOVA], admins)
    instrumented = ["-m", "benchmarks.instrumented"]
    runner = ["-m", "bot"] if profile is None else [*instrumented, "--profile", str(profile), "--"]
    bot = await _serve(procs, "pixelbot", [*runner, "serve"], env)
    held = await _serve(procs, "held", [*instrumented, "--hold-jobs", "--", "serve"], held_env)
    bare_env = env | {"DATABASE_URL": f"sqlite:///{tmp / 'bare.db'}"}
    bare = await _serve(procs, "bare", ["-m", "benchmarks.servers", "bare"], bare_env)
    for server in (bot, held, bare):
        await wait_http(server.url.replace("/slack/events", "/healthz"), server.started)
    await asyncio.sleep(1.0)  # let startup settle before reading the idle peak
    bot_idle, bare_idle = peak_rss_mb(bot.pid), peak_rss_mb(bare.pid)
    pending = await _pending_ids(db, bot.url, slack, len(PIXELS))
    return Stack(backend, bot, bare, held, slack, pending, bot_idle, bare_idle, db)
