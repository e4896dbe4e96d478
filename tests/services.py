"""Services for an in-process app: a real database engine and the Graph sandbox."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.flows.context import Context
from bot.graph.client import GraphClient
from bot.sandbox import Sandbox, create_sandbox
from bot.sandbox_mode import SANDBOX_BASE_URL
from bot.slack.services import Services
from bot.store.db import session_factory
from bot.tokens import TokenBox
from tests.conftest import SECRET_KEY


class PoolWatch:
    """The sandbox, noting how many database connections were checked out at each Graph call.

    pixelbot never holds a connection (a transaction) while it waits on Meta, so with one
    flow running at a time every figure must be 0.
    """

    def __init__(self, sandbox: Sandbox, engine: AsyncEngine) -> None:
        self.sandbox = sandbox
        self.engine = engine
        self.held: list[int] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.held.append(self.engine.sync_engine.pool.checkedout())
        await self.sandbox(scope, receive, send)


def make_services(
    engine: AsyncEngine,
    sandbox: Sandbox | None = None,
    *,
    allow_self_approval: bool = False,
    watch: PoolWatch | None = None,
) -> Services:
    """Services over `engine`, with Graph calls answered by `sandbox` (a fresh demo world)."""
    sandbox = sandbox or create_sandbox()
    app = watch or sandbox
    # Retries wait on Meta's advice; in tests that advice is honoured instantly.
    graph = GraphClient(
        base_url=SANDBOX_BASE_URL, transport=httpx.ASGITransport(app=app), sleep=_no_wait
    )
    sessions = session_factory(engine)
    box = TokenBox(SecretStr(SECRET_KEY))
    flows = Context(sessions, graph, box, allow_self_approval=allow_self_approval)
    return Services(engine, sessions, graph, flows, sandbox=True)


async def _no_wait(_seconds: float) -> None:
    return None
