"""Helpers for tests that run pixelbot (the bot, its CLI, the sandbox) as real processes on
loopback: a free port, a command run to completion, a long-running process whose output
goes to a file, and waiting until something answers."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

STOP_TIMEOUT_S = 15


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def run_pixelbot(env: dict[str, str], *args: str, stdin: str = "") -> str:
    """Run one `pixelbot` command to completion; fail the test unless it exits 0. Its stdout."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot", *args),
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 120)  # a hang guard
    assert proc.returncode == 0, f"pixelbot {' '.join(args)}: {err.decode()}"
    return out.decode()


async def wait_answering(
    url: str, proc: asyncio.subprocess.Process | None = None, seconds: float = 30.0
) -> None:
    """Return once `url` answers 200; fail early if `proc` died meanwhile."""
    async with httpx.AsyncClient() as client:
        for _ in range(int(seconds / 0.05)):
            if proc is not None and proc.returncode is not None:
                raise AssertionError(f"the process exited ({proc.returncode}) before {url}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"{url} did not answer")


def wait_answering_sync(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """`wait_answering` for a process started with Popen (sync fixtures); its log on failure."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the process exited early:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{url} did not answer:\n{log.read_text()}")


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


@dataclass
class Running:
    """A long-running `pixelbot` process; its output goes to a file (a pipe could fill up)."""

    proc: asyncio.subprocess.Process
    log: Path

    @classmethod
    async def start(cls, env: dict[str, str], log: Path, *args: str) -> Running:
        """Start `pixelbot ARGS` with `env`, its stdout and stderr in `log`."""
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "bot", *args),
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
            )
        return cls(proc, log)

    async def wait_answering(self, url: str) -> None:
        """Return once `url` answers 200; fail with the log if the process died first."""
        try:
            await wait_answering(url, self.proc)
        except AssertionError as failed:
            raise AssertionError(f"{failed}\n{self.log.read_text()}") from None

    async def stop(self) -> tuple[int, str]:
        """SIGTERM, then the exit status and the output."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            status = await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise
        return status, self.log.read_text()
