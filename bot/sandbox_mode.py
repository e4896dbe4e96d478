"""`pixelbot serve --sandbox`: the demo world's businesses registered, so every flow can be
tried from Slack against the simulated Graph API, which the Graph client reaches in-process.

The composition root's helper: the one place where the Graph client and the sandbox meet.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass

import httpx
from pydantic import SecretStr

from bot.errors import Conflict
from bot.flows.registry import Registry
from bot.graph.client import GraphClient
from bot.sandbox import Sandbox, World

log = logging.getLogger(__name__)

SANDBOX_DATABASE_URL = "sqlite:///pixelbot-sandbox.db"
SANDBOX_BASE_URL = "http://graph.sandbox.invalid"  # never resolved: the transport is in-process


@dataclass(frozen=True)
class SandboxOptions:
    """Who may act for the demo businesses, and where their approvals go."""

    admins: tuple[str, ...] = ()
    channel: str | None = None
    instance: Sandbox | None = None  # the simulator to use (the playground shows its panel)


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


def sandbox_graph_client(sandbox: Sandbox, version: str) -> GraphClient:
    """A Graph client wired straight into `sandbox`, in-process, with the world's app secret."""
    # The simulated app has its own secret (if any): proofs must be made with it.
    world_secret = sandbox.world.settings.app_secret
    return GraphClient(
        base_url=SANDBOX_BASE_URL,
        version=version,
        app_secret=SecretStr(world_secret) if world_secret else None,
        transport=httpx.ASGITransport(app=sandbox),
    )
