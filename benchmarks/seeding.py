"""Shared benchmark helpers: scratch databases, bulk inserts, SQL and HTTP timers, contexts."""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

import asyncpg
import httpx
from pydantic import SecretStr
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.flows.context import Context
from bot.graph.client import GraphClient
from bot.sandbox_mode import SANDBOX_BASE_URL
from bot.store import migrate
from bot.store.db import create_engine, session_factory
from bot.store.models import Base, Business, BusinessAdmin
from bot.tokens import TokenBox, new_secret_key

# The demo world (bot/sandbox/demo_world.yaml).
ACME, BRIGHT, NOVA = "100200300400501", "100200300400502", "100200300400503"
PIXEL = "300400500600701"  # owned by Acme, shared with Bright
ACME_ADMIN = "UACMEADMIN1"

PG_ADMIN_URL = os.environ.get("PIXELBOT_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
SECRET_KEY = new_secret_key()  # one per benchmark process; tokens never leave it
INSERT_CHUNK = 5_000
# A list of bound parameters, "(?, ?, ?)": statements differing only in it are one.
IN_LIST = re.compile(r"\((?:\?|\$\d+|%\(\w+\)s)(?:,\s*(?:\?|\$\d+|%\(\w+\)s))*\)")


# Scratch databases.


async def _pg_admin() -> asyncpg.Connection:
    url = make_url(PG_ADMIN_URL)
    return await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database, timeout=5
    )


async def backends() -> list[str]:
    """SQLite always; PostgreSQL when the admin URL answers (else a printed note)."""
    try:
        conn = await _pg_admin()
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        print(f"  note: PostgreSQL at {PG_ADMIN_URL} unreachable ({exc}); PG variant skipped")
        return ["sqlite"]
    await conn.close()
    return ["sqlite", "postgresql"]


@asynccontextmanager
async def scratch_database(backend: str) -> AsyncIterator[str]:
    """The URL of a fresh, empty database (an SQLite file, or a PostgreSQL database created
    for the occasion so nothing else's tables are touched), dropped afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="pixelbot-bench-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    name = f"pixelbot_bench_{uuid.uuid4().hex[:12]}"
    conn = await _pg_admin()
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


@asynccontextmanager
async def scratch_engine(backend: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh database migrated to head, dropped afterwards."""
    async with scratch_database(backend) as url, _migrated(url) as engine:
        yield engine


@asynccontextmanager
async def _migrated(url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


# Seeding.


async def bulk_insert(
    engine: AsyncEngine, model: type[Base], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` into `model`'s table with executemany, a chunk per transaction."""
    for start in range(0, len(rows), INSERT_CHUNK):
        async with engine.begin() as conn:
            await conn.execute(insert(model), list(rows[start : start + INSERT_CHUNK]))


async def analyze(engine: AsyncEngine) -> None:
    """Planner statistics on PostgreSQL, as autovacuum would gather after a bulk load.

    SQLite is left as pixelbot leaves it in production: it never runs ANALYZE there.
    """
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))


async def register(
    engine: AsyncEngine,
    businesses: Iterable[tuple[str, str, str]],
    admins: Iterable[tuple[str, str]] = (),
) -> None:
    """Register businesses `(id, name, token)`, tokens sealed, and `(user, business)` admins."""
    box = token_box()
    rows = [
        {
            "business_id": business_id,
            "name": name,
            "token_ciphertext": box.seal(SecretStr(token)),
            "token_fingerprint": "sha256:bench",
        }
        for business_id, name, token in businesses
    ]
    grants = [{"slack_user_id": user, "business_id": biz} for user, biz in admins]
    await bulk_insert(engine, Business, rows)
    if grants:
        await bulk_insert(engine, BusinessAdmin, grants)


def token_box() -> TokenBox:
    """The token box of this benchmark process."""
    return TokenBox(SecretStr(SECRET_KEY))


def graph_client(transport: httpx.AsyncBaseTransport) -> GraphClient:
    """A Graph client whose calls go through `transport` (the sandbox, usually logged)."""
    return GraphClient(base_url=SANDBOX_BASE_URL, transport=transport)


def make_context(engine: AsyncEngine, graph: GraphClient) -> Context:
    """The flows' context over `engine` and `graph`, as the app builds it."""
    return Context(session_factory(engine), graph, token_box())


# Measuring.


@dataclass
class StatementCost:
    """How often one statement ran and its total execution time."""

    count: int = 0
    seconds: float = 0.0


@dataclass
class SqlTimer:
    """SQL execution time and statement count on an engine, from the cursor events."""

    engine: AsyncEngine
    by_text: dict[str, StatementCost] = field(default_factory=dict)
    executed: list[tuple[str, Any, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        event.listen(self.engine.sync_engine, "before_cursor_execute", self._before)
        event.listen(self.engine.sync_engine, "after_cursor_execute", self._after)

    def close(self) -> None:
        """Stop listening."""
        event.remove(self.engine.sync_engine, "before_cursor_execute", self._before)
        event.remove(self.engine.sync_engine, "after_cursor_execute", self._after)

    def reset(self) -> None:
        """Forget everything measured so far."""
        self.by_text.clear()
        self.executed.clear()

    @property
    def seconds(self) -> float:
        """Total execution time."""
        return sum(c.seconds for c in self.by_text.values())

    @property
    def statements(self) -> int:
        """Statements executed."""
        return sum(c.count for c in self.by_text.values())

    def top(self, n: int) -> list[tuple[str, StatementCost]]:
        """The `n` statement texts that cost most, costliest first."""
        return sorted(self.by_text.items(), key=lambda item: -item[1].seconds)[:n]

    def _before(self, conn: Connection, *_args: Any) -> None:
        conn.info.setdefault("bench_started", []).append(perf_counter())

    def _after(self, conn: Connection, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        elapsed = perf_counter() - conn.info["bench_started"].pop()
        cost = self.by_text.setdefault(
            IN_LIST.sub("(…)", " ".join(statement.split())), StatementCost()
        )
        cost.count += 1
        cost.seconds += elapsed
        self.executed.append((statement, params, elapsed))


def print_top(timer: SqlTimer, n: int, label: str) -> None:
    """Print the statements that cost most (grouped by text, IN lists collapsed)."""
    print(f"  {label}: {timer.statements} statements, {timer.seconds * 1000:.0f} ms; costliest:")
    for statement, cost in timer.top(n):
        share = cost.seconds / timer.seconds if timer.seconds else 0.0
        print(f"    {cost.seconds * 1000:8.1f} ms {share:4.0%} x{cost.count:<6} {statement[:150]}")


@dataclass(frozen=True)
class HttpCall:
    """One HTTP request as the client sent it, with when it started and ended."""

    method: str
    path: str
    start: float
    end: float

    @property
    def is_batch(self) -> bool:
        """A Graph batch: a POST to the version root."""
        return self.method == "POST" and re.fullmatch(r"/v\d+\.\d+/?", self.path) is not None


class HttpLog(httpx.AsyncBaseTransport):
    """A transport that records every request it passes on."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.calls: list[HttpCall] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Pass the request on; record it once answered."""
        start = perf_counter()
        try:
            return await self.inner.handle_async_request(request)
        finally:
            self.calls.append(HttpCall(request.method, request.url.path, start, perf_counter()))

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self.inner.aclose()

    def batches(self) -> list[HttpCall]:
        """The batch calls."""
        return [c for c in self.calls if c.is_batch]

    def others(self) -> list[HttpCall]:
        """Every call that is not a batch."""
        return [c for c in self.calls if not c.is_batch]


def print_others(http: HttpLog, label: str) -> None:
    """The non-batch calls by method and path (where the extra round trips go)."""
    paths = Counter(f"{c.method} {c.path}" for c in http.others())
    print(f"  {label}: " + ", ".join(f"{p} x{n}" for p, n in paths.items()))
