"""Migrations: up, down and up again on each backend; the models never drift from them."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.store import migrate
from bot.store.db import create_engine
from bot.store.models import Base

TABLES = {
    "businesses",
    "business_admins",
    "share_requests",
    "ad_account_links",
    "audit_events",
    "slack_events",
    "jobs",
}


async def _tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: inspect(c).get_table_names())
    return set(names) - {"alembic_version"}


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await _tables(engine) == TABLES
        assert await migrate.current_revision(engine) == migrate.head_revision()
        await migrate.downgrade(engine, "base")
        assert await _tables(engine) == set()
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert await _tables(engine) == TABLES
    finally:
        await engine.dispose()


async def test_models_match_migrations(engine: AsyncEngine) -> None:
    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_a_failed_first_use_leaves_no_empty_sqlite_file(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path}/fresh.db"

    async def broken(engine: AsyncEngine, revision: str = "head") -> None:
        async with engine.connect():  # SQLite has created the file by now
            raise RuntimeError("migration failed half-way")

    monkeypatch.setattr(migrate, "upgrade", broken)
    with pytest.raises(RuntimeError):
        await migrate.ensure_schema(url)
    assert list(tmp_path.iterdir()) == []


async def test_an_existing_sqlite_file_is_never_removed(tmp_path, monkeypatch) -> None:
    url = f"sqlite:///{tmp_path}/kept.db"
    await migrate.ensure_schema(url)

    async def broken(engine: AsyncEngine) -> str | None:
        raise RuntimeError("failed")

    monkeypatch.setattr(migrate, "current_revision", broken)
    with pytest.raises(RuntimeError):
        await migrate.ensure_schema(url)
    assert (tmp_path / "kept.db").stat().st_size > 0


def test_migrations_are_found_where_the_package_is_installed_from() -> None:
    found = migrate.migrations_dir()
    assert (found / "env.py").is_file()
    assert sorted(p.name for p in (found / "versions").glob("0*.py"))[:1] == [
        "0001_initial_schema.py"
    ]
