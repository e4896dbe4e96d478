"""The Graph sandbox: a stateful simulator of the Meta Graph API endpoints pixelbot uses.

A program of its own: it imports nothing from `bot` but the shared errors, so the bot talks
to it only over HTTP (in-process through `httpx.ASGITransport`, or on a port).

How a call flows: app.py (ASGI: read the request, latency, holds) -> pipeline.py
(authenticate, inject faults, spend budget, route, record) -> routes/ (Meta's semantics, a
module per Graph node) -> world.py (the mechanics of what changes). All of it acts on one
`State` (state.py): the world, the faults, the call log, the usage meter and the clock. The
control API (control.py, `/_sandbox/...`) changes that state behind the bot's back, as
Business Settings would. World files are described by world_file.py and read by loader.py;
the demo world is demo_world.yaml.
"""

from __future__ import annotations

from bot.sandbox.app import Sandbox, create_sandbox
from bot.sandbox.faults import FaultRule, Faults, faults_from_cli
from bot.sandbox.loader import (
    DEMO_WORLD_PATH,
    WorldFileError,
    load_demo_world,
    load_world,
    world_from_data,
)
from bot.sandbox.routes import ROUTES
from bot.sandbox.server import run_sandbox
from bot.sandbox.state import CallRecord, State
from bot.sandbox.world import World, WorldStateError

__all__ = [
    "DEMO_WORLD_PATH",
    "ROUTES",
    "CallRecord",
    "FaultRule",
    "Faults",
    "Sandbox",
    "State",
    "World",
    "WorldFileError",
    "WorldStateError",
    "create_sandbox",
    "faults_from_cli",
    "load_demo_world",
    "load_world",
    "run_sandbox",
    "world_from_data",
]
