"""What the Slack listeners are given to work with, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.flows.context import Context
from bot.flows.meta.port import MetaClient
from bot.slack.background import Background
from bot.slack.work import SlackWork


@dataclass(frozen=True)
class Services:
    """Shared resources of one running app."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    graph: MetaClient  # built by the composition root (bot.runtime), which closes it
    flows: Context
    sandbox: bool = False  # Meta is simulated in-process; replies say so
    background: Background = field(default_factory=Background)
    work: SlackWork = field(init=False)  # durable jobs and the Slack sync

    def __post_init__(self) -> None:
        object.__setattr__(self, "work", SlackWork(self.flows, self.background))
