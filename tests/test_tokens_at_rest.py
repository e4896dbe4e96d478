"""The database never holds a Meta token in clear: not in rows, not in SQLite's files."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.errors import ConfigError
from bot.flows.registry import Registry
from bot.store.db import session_factory
from bot.store.repositories import Businesses
from bot.tokens import TokenBox, fingerprint
from tests import secrets_guard
from tests.conftest import SECRET_KEY

TOKEN = "EAAB-this-is-the-clear-token-0123456789abcdef"
secrets_guard.KNOWN.add(TOKEN)


async def _register(engine: AsyncEngine) -> Registry:
    registry = Registry(session_factory(engine), TokenBox(SecretStr(SECRET_KEY)))
    await registry.add_business("1234567890", "Acme", "C0APPROVAL", SecretStr(TOKEN))
    return registry


async def test_rows_hold_ciphertext_and_fingerprint_only(engine: AsyncEngine) -> None:
    await _register(engine)
    async with engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM businesses"))).all()
        audit = (await conn.execute(text("SELECT * FROM audit_events"))).all()
    dumped = repr(rows) + repr(audit)
    assert TOKEN not in dumped
    assert TOKEN.encode() not in b"".join(
        v for row in rows for v in row if isinstance(v, (bytes, memoryview))
    )
    assert fingerprint(SecretStr(TOKEN)) in dumped


async def test_sqlite_files_never_contain_the_token(engine: AsyncEngine, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("file check is for SQLite")
    await _register(engine)
    await engine.dispose()  # checkpoint and close, so every byte is on disk
    db_file = Path(database_url.removeprefix("sqlite:///"))
    files = [p for p in db_file.parent.iterdir() if p.name.startswith(db_file.name)]
    assert files
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), path


async def test_token_decrypts_back_with_the_key(engine: AsyncEngine) -> None:
    await _register(engine)
    async with session_factory(engine)() as session:
        business = await Businesses(session).get("1234567890")
    assert business is not None
    box = TokenBox(SecretStr(SECRET_KEY))
    assert box.open(business.token_ciphertext).get_secret_value() == TOKEN


async def test_wrong_key_gives_a_clear_error(engine: AsyncEngine) -> None:
    await _register(engine)
    async with session_factory(engine)() as session:
        business = await Businesses(session).get("1234567890")
    assert business is not None
    other = TokenBox(SecretStr(Fernet.generate_key().decode()))
    with pytest.raises(ConfigError, match="PIXELBOT_SECRET_KEY is not the key"):
        other.open(business.token_ciphertext)
