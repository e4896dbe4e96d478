"""Helpers for tests that run pixelbot as a real process on loopback."""

from __future__ import annotations

import asyncio
import socket

import httpx


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_healthy(
    port: int, proc: asyncio.subprocess.Process, seconds: float = 15.0
) -> httpx.Response:
    """The first answer of `GET /healthz`; fails with the process's stderr if it died first."""
    async with httpx.AsyncClient() as client:
        for _ in range(int(seconds / 0.05)):
            if proc.returncode is not None:
                raise AssertionError((await proc.stderr.read()).decode())  # type: ignore[union-attr]
            try:
                return await client.get(f"http://127.0.0.1:{port}/healthz")
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise AssertionError("server did not come up")
