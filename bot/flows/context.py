"""What every use-case is given: sessions, the Meta port, the token box, the settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.flows.meta.port import Meta
from bot.store.models import utcnow
from bot.tokens import TokenBox


@dataclass(frozen=True)
class Context:
    """Shared by the use-cases of one process."""

    sessions: async_sessionmaker[AsyncSession]
    meta: Meta
    box: TokenBox
    allow_self_approval: bool = False
    clock: Callable[[], datetime] = field(default=utcnow)
