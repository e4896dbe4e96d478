"""The crash tests' databases: one template per backend (migrated, Acme, Nova and Bright
registered), copied for every case; a write lock the test takes to stop the bot at its next
write; and reading what the processes left behind."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sqlite3
import uuid
from pathlib import Path

import asyncpg
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.flows.registry import Registry
from bot.store import migrate
from bot.store.db import create_engine, session_factory
from bot.store.models import Job, ShareRequest
from bot.tokens import TokenBox
from tests.conftest import PG_URL, SECRET_KEY
from tests.crash.cast import ADMINS, BUSINESSES, crash_world


async def _registered(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
        registry = Registry(session_factory(engine), TokenBox(SecretStr(SECRET_KEY)))
        world = crash_world()
        for business_id, channel in BUSINESSES:
            name = world.businesses[business_id].name
            token = SecretStr(world.token_for(business_id))
            await registry.add_business(business_id, name, channel, token)
        for user, business_id in ADMINS:
            await registry.grant_admin(user, business_id)
    finally:
        await engine.dispose()


async def _admin() -> asyncpg.Connection:
    assert PG_URL is not None
    url = make_url(PG_URL)
    return await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )


class Databases:
    """Copies of a registered template, one per case; `close()` drops what was made."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._templates: dict[str, str] = {}
        self._made: list[str] = []
        self._lock = asyncio.Lock()

    async def new(self, backend: str) -> str:
        """A fresh database of `backend` ("sqlite" or "postgresql"), at head, registered."""
        async with self._lock:  # PostgreSQL copies one template at a time
            template = self._templates.get(backend) or await self._template(backend)
            self._templates[backend] = template
            name = f"pixelbot_crash_{uuid.uuid4().hex[:12]}"
            if backend == "sqlite":
                path = self._folder / f"{name}.db"
                shutil.copyfile(make_url(template).database or "", path)
                return f"sqlite:///{path}"
            conn = await _admin()
            try:
                source = make_url(template).database
                await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
            finally:
                await conn.close()
            self._made.append(name)
            assert PG_URL is not None
            return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)

    async def _template(self, backend: str) -> str:
        name = f"pixelbot_crash_template_{uuid.uuid4().hex[:8]}"
        if backend == "sqlite":
            url = f"sqlite:///{self._folder / (name + '.db')}"
        else:
            conn = await _admin()
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
            finally:
                await conn.close()
            self._made.append(name)
            assert PG_URL is not None
            url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        await _registered(url)
        if backend == "sqlite":  # everything in the main file, so that a copy has it all
            with contextlib.closing(sqlite3.connect(make_url(url).database or "")) as db:
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return url

    async def close(self) -> None:
        """Drop every PostgreSQL database made (SQLite files go with the folder)."""
        if not self._made:
            return
        conn = await _admin()
        try:
            for name in self._made:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


class WriteLock:
    """The test holds the database's write lock, so the bot's next write waits for it.

    PostgreSQL locks the named tables against writes (reads go on) and can tell which of
    the bot's statements waits; SQLite has one lock for the whole file and cannot."""

    def __init__(self, database_url: str) -> None:
        self._url = make_url(database_url)
        self._sqlite: sqlite3.Connection | None = None
        self._pg: asyncpg.Connection | None = None
        self._watch: asyncpg.Connection | None = None

    @property
    def observable(self) -> bool:
        """Whether `waiting` can see the bot's blocked statement."""
        return self._url.get_backend_name() != "sqlite"

    async def take(self, *tables: str) -> None:
        """Lock (SQLite: the file; PostgreSQL: `tables` in EXCLUSIVE mode)."""
        if not self.observable:
            path = self._url.database or ""
            self._sqlite = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=False
            )
            await asyncio.to_thread(self._sqlite.execute, "BEGIN IMMEDIATE")
            return
        connect = {"host": self._url.host, "port": self._url.port or 5432}
        connect |= {"user": self._url.username, "database": self._url.database}
        self._pg = await asyncpg.connect(**connect)
        self._watch = await asyncpg.connect(**connect)
        await self._pg.execute("BEGIN")
        await self._pg.execute(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE")

    async def waiting(self) -> list[str]:
        """The statements that wait for a lock now (PostgreSQL only)."""
        assert self._watch is not None and self._pg is not None
        rows = await self._watch.fetch(
            "SELECT query FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> $1",
            self._pg.get_server_pid(),
        )
        return [str(row["query"]) for row in rows]

    async def release(self) -> None:
        """Give the lock back; the bot (if alive) goes on."""
        if self._sqlite is not None:
            self._sqlite.execute("ROLLBACK")
            self._sqlite.close()
            self._sqlite = None
        for conn in (self._pg, self._watch):
            if conn is not None:
                await conn.close()
        self._pg = self._watch = None


async def share_rows(engine: AsyncEngine) -> list[ShareRequest]:
    """Every share request, oldest first."""
    async with session_factory(engine)() as session:
        found = await session.scalars(select(ShareRequest).order_by(ShareRequest.id))
        return list(found.all())


async def job_rows(engine: AsyncEngine) -> list[Job]:
    """Every job, oldest first."""
    async with session_factory(engine)() as session:
        return list((await session.scalars(select(Job).order_by(Job.id))).all())
