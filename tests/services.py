"""Services for an in-process app: a real database engine and the Graph sandbox."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.graph.sandbox import Sandbox, create_sandbox
from bot.graph.wiring import graph_client
from bot.slack.services import Services
from bot.store.db import session_factory


def make_services(engine: AsyncEngine, sandbox: Sandbox | None = None) -> Services:
    """Services over `engine`, with Graph calls answered by `sandbox` (a fresh demo world)."""
    graph = graph_client("https://graph.facebook.com", "v25.0", None, sandbox or create_sandbox())
    return Services(engine=engine, sessions=session_factory(engine), graph=graph, sandbox=True)
