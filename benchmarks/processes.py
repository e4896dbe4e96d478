"""Real processes on loopback for the benchmarks: start, wait until healthy, stop; setup
through the `pixelbot` CLI; memory and CPU read from /proc."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
STOP_GRACE_S = 10.0
CLI_TIMEOUT_S = 60.0
# Settings pixelbot reads; none of the developer's may leak into a benchmark process.
_OURS = ("SLACK_", "GRAPH_", "META_", "PIXELBOT_", "DATABASE_URL", "LOG_LEVEL")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without pixelbot settings, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
    return env | values


@dataclass
class Started:
    """A process started by `Processes`, its output going to `log`."""

    name: str
    proc: asyncio.subprocess.Process
    log: Path

    @property
    def pid(self) -> int:
        """The process id."""
        return self.proc.pid

    def tail(self, lines: int = 30) -> str:
        """The last lines of its output, for error messages."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class Processes:
    """Processes started for one benchmark; all stopped on exit (SIGTERM, then kill)."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self._started: list[Started] = []

    async def __aenter__(self) -> Processes:
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        for started in reversed(self._started):
            await stop(started)

    async def start(self, name: str, args: list[str], env: dict[str, str]) -> Started:
        """Start `python ARGS` in the work folder; stdout and stderr go to NAME.log."""
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                PYTHON, *args, env=env, cwd=self.workdir, stdout=out, stderr=out
            )
        started = Started(name, proc, log)
        self._started.append(started)
        return started


async def stop(started: Started, grace: float = STOP_GRACE_S) -> int:
    """SIGTERM, then SIGKILL after `grace` seconds; the exit status."""
    proc = started.proc
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
    return int(proc.returncode or 0)


async def wait_http(url: str, started: Started, within: float = 60.0) -> None:
    """Poll GET `url` until it answers 200; fail with the log tail if the process exits."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=5.0) as client:
        while time.monotonic() < deadline:
            if started.proc.returncode is not None:
                raise RuntimeError(f"{started.name} exited early:\n{started.tail()}")
            with contextlib.suppress(httpx.TransportError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{started.name} did not answer {url} within {within:g} s")


async def wait_line(started: Started, prefix: str, within: float = 30.0) -> str:
    """The first line of the process's output that starts with `prefix` (rest of the line)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for line in started.tail(200).splitlines():
            if line.startswith(prefix):
                return line.removeprefix(prefix).strip()
        if started.proc.returncode is not None:
            raise RuntimeError(f"{started.name} exited early:\n{started.tail()}")
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{started.name} printed no {prefix!r} within {within:g} s")


async def pixelbot(args: list[str], env: dict[str, str], cwd: Path, stdin: str = "") -> str:
    """Run `pixelbot ARGS` to completion; its stdout, or an error with its stderr."""
    proc = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "bot",
        *args,
        env=env,
        cwd=cwd,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), CLI_TIMEOUT_S)
    if proc.returncode != 0:
        raise RuntimeError(f"pixelbot {args[0]} failed ({proc.returncode}): {err.decode()}")
    return out.decode()


@dataclass(frozen=True)
class Business:
    """A business to register, with its Meta token and approvals channel."""

    business_id: str
    name: str
    token: str
    channel: str | None = None


async def prepare_database(
    env: dict[str, str], cwd: Path, businesses: list[Business], admins: list[tuple[str, str]]
) -> None:
    """Migrate, register `businesses` (tokens on stdin), grant (user, business) `admins`."""
    await pixelbot(["db", "upgrade"], env, cwd)
    for b in businesses:
        channel = ["--channel", b.channel] if b.channel else []
        args = ["business", "add", b.business_id, "--name", b.name, *channel, "--token-stdin"]
        await pixelbot(args, env, cwd, stdin=b.token)
    for user, business_id in admins:
        await pixelbot(["admin", "grant", user, business_id], env, cwd)


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size so far (VmHWM), in MB."""
    return _status_kb(pid, "VmHWM") / 1024


def rss_mb(pid: int) -> float:
    """The process's resident set size now (VmRSS), in MB."""
    return _status_kb(pid, "VmRSS") / 1024


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far."""
    # Fields after the command name, which is in parentheses and may contain spaces.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def wait_quiet(pid: int, busy_share: float = 0.05, within: float = 60.0) -> float:
    """Wait until the process uses under `busy_share` of a core over 0.5 s; seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        before = cpu_seconds(pid)
        await asyncio.sleep(0.5)
        if cpu_seconds(pid) - before < busy_share * 0.5:
            break
    return time.monotonic() - start
