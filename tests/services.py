"""Services for an in-process app: a real database engine and the Graph sandbox."""

from __future__ import annotations

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.flows.context import Context
from bot.graph.client import GraphClient
from bot.graph.sandbox import Sandbox, create_sandbox
from bot.graph.wiring import SANDBOX_BASE_URL
from bot.slack.services import Services
from bot.store.db import session_factory
from bot.tokens import TokenBox
from tests.conftest import SECRET_KEY


def make_services(
    engine: AsyncEngine, sandbox: Sandbox | None = None, *, allow_self_approval: bool = False
) -> Services:
    """Services over `engine`, with Graph calls answered by `sandbox` (a fresh demo world)."""
    sandbox = sandbox or create_sandbox()
    # Retries wait on Meta's advice; in tests that advice is honoured instantly.
    graph = GraphClient(
        base_url=SANDBOX_BASE_URL, transport=httpx.ASGITransport(app=sandbox), sleep=_no_wait
    )
    sessions = session_factory(engine)
    box = TokenBox(SecretStr(SECRET_KEY))
    flows = Context(sessions, graph, box, allow_self_approval=allow_self_approval)
    return Services(engine, sessions, graph, flows, sandbox=True)


async def _no_wait(_seconds: float) -> None:
    return None
