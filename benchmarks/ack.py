"""Ack under load (benchmark 1) and memory (benchmark 5), all real processes on loopback.

Fifty keep-alive clients send signed `/pixel share` commands and Approve clicks to
`pixelbot serve` (Graph sandbox answering every call after 2 s, fake Slack Web API) and to
a bare Bolt app on the same server stack, in alternate rounds so that noise hits both.
"""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from benchmarks.figures import Figure, at_least, at_most, info, median, percentile
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
    wait_quiet,
)
from benchmarks.servers import FAKE_SLACK_READY
from bot.slack.ids import Action
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.signing import SIGNING_SECRET, action_body, command_body, signed_headers

CLIENTS = 50
GRAPH_LATENCY_MS = 2000
ACME = Business("100200300400501", "Acme Shoes", "EAASandboxAcmeShoesAdmin0001")
NOVA = Business("100200300400503", "Nova Media", "EAASandboxNovaMediaAdmin0001", "C0NOVAAPPR")
ACME_ADMIN = "U0ACMEADM1"
NOVA_ADMINS = ("U0NOVAADM1", "U0NOVAADM2", "U0NOVAADM3")
PIXELS = ("300400500600701", "300400500600702", "300400500600703")
# Work queued during a round may wait up to 30 s for a database connection (SQLAlchemy's
# pool timeout) and then fail all at once: a round's aftermath must not land in the next.
SETTLE_S = 35.0

Request = tuple[bytes, dict[str, str]]


@dataclass
class Round:
    """One load round against one server: ack latencies, failures, elapsed time."""

    latencies_ms: list[float] = field(default_factory=list)
    failures: int = 0  # non-200 answers and transport errors
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        """Answered requests per second."""
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


@dataclass
class Stack:
    """The running processes and what the load needs to know about them."""

    bot: Started
    bare: Started
    bot_url: str
    bare_url: str
    slack: FakeSlack  # not started here: it only names the subprocess's response_urls
    pending: list[int]
    bot_idle_mb: float
    bare_idle_mb: float


def _requests(stack: Stack, client: int) -> list[Request]:
    """One client's requests, signed now: a share command and an Approve click."""
    pixel = PIXELS[client % len(PIXELS)]
    command = command_body(
        f"share {pixel} {NOVA.business_id}",
        user_id=ACME_ADMIN,
        response_url=stack.slack.response_url(f"c{client}"),
    )
    click = action_body(
        Action.APPROVE.value,
        str(stack.pending[client % len(stack.pending)]),
        NOVA_ADMINS[client % len(NOVA_ADMINS)],
        stack.slack.response_url(f"a{client}"),
        channel=NOVA.channel or "",
    )
    return [(body.encode(), signed_headers(body)) for body in (command, click)]


async def _client(
    http: httpx.AsyncClient, url: str, requests: list[Request], until: float, into: Round
) -> None:
    """Send `requests` in turn, one at a time, until the deadline."""
    sent = 0
    while (start := time.perf_counter()) < until:
        body, headers = requests[sent % len(requests)]
        sent += 1
        try:
            response = await http.post(url, content=body, headers=headers)
        except httpx.HTTPError:
            into.failures += 1
            continue
        into.latencies_ms.append((time.perf_counter() - start) * 1000)
        into.failures += int(response.status_code != 200)


async def load(stack: Stack, url: str, seconds: float) -> Round:
    """CLIENTS connections (opened and warmed first) sending for `seconds`."""
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    clients = [httpx.AsyncClient(limits=limits, timeout=30.0) for _ in range(CLIENTS)]
    requests = [_requests(stack, i) for i in range(CLIENTS)]
    pairs = list(zip(clients, requests, strict=True))
    result = Round()
    try:
        # One request each opens its connection; not measured.
        await asyncio.gather(*(c.post(url, content=r[0][0], headers=r[0][1]) for c, r in pairs))
        start = time.perf_counter()
        until = start + seconds
        await asyncio.gather(*(_client(c, url, r, until, result) for c, r in pairs))
        result.seconds = time.perf_counter() - start
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return result


def _bot_env(tmp: Path, graph_port: int, slack: FakeSlack) -> dict[str, str]:
    """The environment of the pixelbot processes (CLI and serve)."""
    return clean_env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        PIXELBOT_SECRET_KEY=Fernet.generate_key().decode(),
        DATABASE_URL=f"sqlite:///{tmp / 'pixelbot.db'}",
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


async def _pending_ids(database: Path, url: str, slack: FakeSlack, count: int) -> list[int]:
    """Ask for one share per pixel to Nova (not a partner) and wait until Meta has them pending."""
    async with httpx.AsyncClient(timeout=10.0) as http:
        for pixel in PIXELS[:count]:
            body = command_body(
                f"share {pixel} {NOVA.business_id}", ACME_ADMIN, slack.response_url("setup")
            )
            (await http.post(url, content=body, headers=signed_headers(body))).raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as db:
            rows = db.execute("SELECT id FROM share_requests WHERE status = 'pending'").fetchall()
        if len(rows) >= count:
            return sorted(r[0] for r in rows)
        await asyncio.sleep(0.2)
    raise RuntimeError(f"no {count} pending share requests after 60 s")


async def start_stack(procs: Processes) -> Stack:
    """Sandbox, fake Slack, a prepared pixelbot and the bare app, all answering."""
    tmp = procs.workdir
    graph_port, slack = await _start_fakes(procs)
    env = _bot_env(tmp, graph_port, slack)
    admins = [(ACME_ADMIN, ACME.business_id)] + [(a, NOVA.business_id) for a in NOVA_ADMINS]
    await prepare_database(env, tmp, [ACME, NOVA], admins)
    bot_port, bare_port = free_port(), free_port()
    bot = await procs.start("pixelbot", ["-m", "bot", "serve", "--port", str(bot_port)], env)
    bare_env = env | {"DATABASE_URL": f"sqlite:///{tmp / 'bare.db'}", "PYTHONPATH": str(REPO)}
    bare_args = ["-m", "benchmarks.servers", "bare", "--port", str(bare_port)]
    bare = await procs.start("bare", bare_args, bare_env)
    await wait_http(f"http://127.0.0.1:{bot_port}/healthz", bot)
    await wait_http(f"http://127.0.0.1:{bare_port}/healthz", bare)
    await asyncio.sleep(1.0)  # let startup settle before reading the idle peak
    bot_idle, bare_idle = peak_rss_mb(bot.pid), peak_rss_mb(bare.pid)
    bot_url = f"http://127.0.0.1:{bot_port}/slack/events"
    pending = await _pending_ids(tmp / "pixelbot.db", bot_url, slack, len(PIXELS))
    bare_url = f"http://127.0.0.1:{bare_port}/slack/events"
    return Stack(bot, bare, bot_url, bare_url, slack, pending, bot_idle, bare_idle)


async def settle(stack: Stack) -> None:
    """Let pixelbot's background work from a round end, so it does not slow the next round."""
    await asyncio.sleep(SETTLE_S)
    await wait_quiet(stack.bot.pid)


async def rounds(stack: Stack, count: int, seconds: float) -> tuple[list[Round], list[Round]]:
    """Alternate rounds (bare, pixelbot, ...), each started with every process quiet."""
    bare: list[Round] = []
    bot: list[Round] = []
    for _ in range(count):
        await wait_quiet(stack.bare.pid)
        bare.append(await load(stack, stack.bare_url, seconds))
        await wait_quiet(stack.bot.pid)
        bot.append(await load(stack, stack.bot_url, seconds))
        await settle(stack)
    return bare, bot


def _p50(rounds: list[Round]) -> float:
    return median([percentile(r.latencies_ms, 0.50) for r in rounds])


def _p99(rounds: list[Round]) -> float:
    return median([percentile(r.latencies_ms, 0.99) for r in rounds])


def _rps(rounds: list[Round]) -> float:
    return median([r.rps for r in rounds])


def figures(stack: Stack, bare: list[Round], bot: list[Round]) -> list[Figure]:
    """The figures: medians over rounds, the throughput ratio per round then its median."""
    ratio = median([b.rps / a.rps for a, b in zip(bare, bot, strict=True) if a.rps])
    return [
        info("ack", "pixelbot ack p50", _p50(bot), "ms"),
        at_most("ack", "pixelbot ack p99", _p99(bot), "ms", 250),
        info("ack", "pixelbot throughput", _rps(bot), "req/s"),
        info("ack", "bare Bolt ack p50", _p50(bare), "ms"),
        info("ack", "bare Bolt ack p99", _p99(bare), "ms"),
        info("ack", "bare Bolt throughput", _rps(bare), "req/s"),
        at_least("ack", "throughput pixelbot / bare Bolt", ratio, "x", 0.7),
        at_most(
            "ack", "pixelbot non-200 answers (all rounds)", sum(r.failures for r in bot), "req", 0
        ),
        at_most("memory", "pixelbot peak RSS, idle", stack.bot_idle_mb, "MB", 120),
        info("memory", "pixelbot peak RSS, after load", peak_rss_mb(stack.bot.pid), "MB"),
        info("memory", "bare Bolt peak RSS, idle", stack.bare_idle_mb, "MB"),
    ]


async def run(quick: bool) -> list[Figure]:
    """Benchmarks 1 and 5; 3 alternate rounds of 10 s each (1 of 4 s with `quick`)."""
    count, seconds = (1, 4.0) if quick else (3, 10.0)
    with tempfile.TemporaryDirectory(prefix="pixelbot-ack-") as tmp:
        async with Processes(Path(tmp)) as procs:
            stack = await start_stack(procs)
            bare, bot = await rounds(stack, count, seconds)
            return figures(stack, bare, bot)
