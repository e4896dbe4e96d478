"""A TCP proxy between a pixelbot process and the Graph sandbox that can hold one call: the
request before Meta sees it ("on the wire"), or Meta's answer before the bot sees it.

The sandbox's own faults hold an answer for a fixed time; this proxy holds it until the test
says so, which is what it takes to kill a process exactly after Meta answered and before the
answer was recorded. Requests are read whole (httpx sends a Content-Length, never chunks a
request body) and matched on their first line and their body.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass, field


@dataclass
class Hold:
    """One held call: `arrived` once its request reached the proxy.

    An answer hold forwards the request, then keeps Meta's answer (`at_proxy`) until
    `release()`; `delivered` once the bot has it. A request hold never forwards it."""

    line: re.Pattern[bytes]
    body: re.Pattern[bytes] | None
    answer: bool
    every: bool  # every matching call until released, not just the next one
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    at_proxy: asyncio.Event = field(default_factory=asyncio.Event)
    delivered: asyncio.Event = field(default_factory=asyncio.Event)
    request_line: bytes = b""
    _released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        """Let Meta's answer go on to the bot."""
        self._released.set()


class GraphProxy:
    """Forwards 127.0.0.1:`port` to the sandbox; `hold` one call at a time."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream = upstream_port
        self._holds: list[Hold] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """What the bot's GRAPH_API_URL points at."""
        return f"http://127.0.0.1:{self.port}"

    def hold(
        self, line: str, body: str | None = None, *, answer: bool = False, every: bool = False
    ) -> Hold:
        """Hold the next call (`every`: all calls until released) whose request line matches
        `line` (a regex such as `^POST /v25.0/1 `) and whose body matches `body`, if given."""
        pattern = re.compile(body.encode()) if body is not None else None
        held = Hold(re.compile(line.encode()), pattern, answer, every)
        self._holds.append(held)
        return held

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close every connection and stop listening."""
        for held in self._holds:
            held.release()
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _match(self, head: bytes, body: bytes) -> Hold | None:
        line = head.split(b"\r\n", 1)[0]
        for held in self._holds:
            done = held._released.is_set() if held.every else held.arrived.is_set()
            if done or not held.line.search(line):
                continue
            if held.body is None or held.body.search(body):
                held.request_line = line
                held.arrived.set()
                return held
        return None

    async def _accept(self, bot_in: asyncio.StreamReader, bot_out: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            meta_in, meta_out = await asyncio.open_connection("127.0.0.1", self._upstream)
        except OSError:
            bot_out.close()
            self._tasks.discard(task)
            return
        link = _Link(bot_out, meta_out)
        try:
            await asyncio.gather(self._requests(bot_in, link), self._answers(meta_in, link))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for writer in (meta_out, bot_out):
                writer.close()
            self._tasks.discard(task)

    async def _requests(self, bot_in: asyncio.StreamReader, link: _Link) -> None:
        try:
            while request := await _request(bot_in):
                head, body = request
                held = self._match(head, body)
                if held is not None and not held.answer:
                    link.on_the_wire = True
                    while await bot_in.read(65536):  # never forwarded: Meta never sees it
                        pass
                    return
                if held is not None:
                    link.answering.append(held)
                link.meta_out.write(head + body)
                await link.meta_out.drain()
        finally:
            with contextlib.suppress(OSError):
                link.meta_out.close()
                link.bot_out.close()

    async def _answers(self, meta_in: asyncio.StreamReader, link: _Link) -> None:
        bot_out = link.bot_out
        try:
            while chunk := await meta_in.read(65536):
                if link.answering:
                    held = link.answering.pop()
                    held.at_proxy.set()
                    await held._released.wait()
                    bot_out.write(chunk)
                    await bot_out.drain()
                    held.delivered.set()
                    continue
                bot_out.write(chunk)
                await bot_out.drain()
        finally:
            # The sandbox may close an idle connection; one whose request is held on the wire
            # stays open for the bot, which would otherwise send the request again elsewhere.
            if not link.on_the_wire:
                with contextlib.suppress(OSError):
                    bot_out.close()


@dataclass
class _Link:
    """One connection from the bot and the sandbox connection it is relayed to."""

    bot_out: asyncio.StreamWriter
    meta_out: asyncio.StreamWriter
    answering: list[Hold] = field(default_factory=list)  # answer holds whose request went on
    on_the_wire: bool = False  # a request is held here, never to reach Meta


async def _request(stream: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    """One whole HTTP/1.1 request (head, body); None when the client hung up."""
    try:
        head = await stream.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    body = await stream.readexactly(int(length.group(1))) if length else b""
    return head, body
