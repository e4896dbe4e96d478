"""What the Slack listeners are given to work with, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.graph.client import GraphClient


@dataclass(frozen=True)
class Services:
    """Shared resources of one running app."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    graph: GraphClient
    sandbox: bool = False  # Meta is simulated in-process; replies say so
