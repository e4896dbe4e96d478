"""`pixelbot serve --sandbox`: the demo world's businesses registered, so every flow can be
tried from Slack against the simulated Graph API."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

from pydantic import SecretStr

from bot.errors import Conflict
from bot.flows.registry import Registry
from bot.graph.sandbox import World

log = logging.getLogger(__name__)

SANDBOX_DATABASE_URL = "sqlite:///pixelbot-sandbox.db"


@dataclass(frozen=True)
class SandboxOptions:
    """Who may act for the demo businesses, and where their approvals go."""

    admins: tuple[str, ...] = ()
    channel: str | None = None


async def register_demo_world(registry: Registry, world: World, options: SandboxOptions) -> None:
    """Register every business of `world` with its simulated token; grant `options.admins`."""
    for business in world.businesses.values():
        token = SecretStr(world.token_for(business.id))
        await registry.add_business(
            business.id, business.name, options.channel, token, replace=True
        )
        for admin in options.admins:
            with contextlib.suppress(Conflict):  # granted by an earlier sandbox run
                await registry.grant_admin(admin, business.id)
        log.info("sandbox: business %s (%s) registered", business.name, business.id)
