"""Who and what the crash world holds: `world.yaml` at Meta, the same registered with
pixelbot (businesses, approvals channels, admins)."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.loader import load_world
from bot.sandbox.world import World
from tests import secrets_guard
from tests.e2e.conftest import ACME, BRIGHT, NOVA, NOVA_ADMIN, NOVA_CHANNEL, OWNER, OWNER2

WORLD_FILE = Path(__file__).with_name("world.yaml")
ORION, ORION_ADMIN, ORION_CHANNEL = "100200300400504", "U0ORIONAD1", "C0ORIONAPP"
OWNER3, OWNER4, OWNER5 = "U0ACMEOWN3", "U0ACMEOWN4", "U0ACMEOWN5"
BRIGHT_ACCOUNT = "500600700800911"
# Registered with pixelbot: (business, approvals channel), (Slack user, business).
BUSINESSES = ((ACME, None), (BRIGHT, None), (NOVA, NOVA_CHANNEL), (ORION, ORION_CHANNEL))
ADMINS = (
    *((user, ACME) for user in (OWNER, OWNER2, OWNER3, OWNER4, OWNER5)),
    (NOVA_ADMIN, NOVA),
    (ORION_ADMIN, ORION),
)


def crash_world() -> World:
    """The world the sandbox serves (its tokens are secrets the guard looks for)."""
    world = load_world(WORLD_FILE)
    secrets_guard.KNOWN.update(t for b in world.businesses.values() for t in b.tokens)
    return world
