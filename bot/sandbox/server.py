"""The sandbox as a server of its own (`pixelbot sandbox`): uvicorn on a host and port."""

from __future__ import annotations

import logging
import signal
from dataclasses import replace
from pathlib import Path
from types import FrameType

import uvicorn

from bot.sandbox.app import create_sandbox
from bot.sandbox.faults import Faults
from bot.sandbox.loader import load_demo_world, load_world

log = logging.getLogger(__name__)


def run_sandbox(
    host: str,
    port: int,
    world_path: Path | None,
    faults: Faults,
    variants: frozenset[str] = frozenset(),
) -> None:
    """Serve the sandbox with uvicorn until interrupted (bind to loopback: no auth on control).
    `variants` are played on top of those the world file selects."""
    world = load_world(world_path) if world_path is not None else load_demo_world()
    world.settings = replace(world.settings, variants=world.settings.variants | variants)
    sandbox = create_sandbox(world, faults)
    sandbox.drop_raises = False
    names = ", ".join(f"{b.name} ({b.id})" for b in world.businesses.values())
    source = world_path or "the demo world"
    # Tokens are never logged: they are in the world file for whoever runs the demo.
    log.info("Graph sandbox on http://%s:%s, world %s: %s", host, port, source, names)
    if world.settings.variants:
        log.info("Meta variants played: %s", ", ".join(sorted(world.settings.variants)))
    # uvicorn's access log prints query strings, where Meta-style clients put access_token;
    # the sandbox logs each call itself, without the query.
    # uvicorn re-raises SIGTERM after its graceful shutdown; that is a normal exit here.
    signal.signal(signal.SIGTERM, _exit_quietly)
    uvicorn.run(sandbox, host=host, port=port, log_level="info", lifespan="on", access_log=False)


def _exit_quietly(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)
