"""The process's one Graph client: real Meta, or the sandbox in-process (`serve --sandbox`)."""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from bot.graph.client import GraphClient
from bot.graph.sandbox import Sandbox

SANDBOX_BASE_URL = "http://graph.sandbox.invalid"  # never resolved: the transport is in-process


def graph_client(
    base_url: str, version: str, app_secret: SecretStr | None, sandbox: Sandbox | None = None
) -> GraphClient:
    """A client for GRAPH_API_URL, or one wired straight into `sandbox` when given."""
    if sandbox is None:
        return GraphClient(base_url=base_url, version=version, app_secret=app_secret)
    # The simulated app has its own secret (if any): proofs must be made with it.
    world_secret = sandbox.world.settings.app_secret
    return GraphClient(
        base_url=SANDBOX_BASE_URL,
        version=version,
        app_secret=SecretStr(world_secret) if world_secret else None,
        transport=httpx.ASGITransport(app=sandbox),
    )
