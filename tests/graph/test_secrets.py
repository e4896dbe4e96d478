"""The token never appears in a URL or a log line, through a real loopback HTTP server."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator

import pytest

from bot.flows.meta.errors import GraphInvalidParameter
from bot.graph import GraphClient, appsecret_proof

from .conftest import AGENCY, APP_SECRET, BIZ, PIXEL, TOKEN, FakeClock

SECRET = TOKEN.get_secret_value()
PROOF = appsecret_proof(APP_SECRET, TOKEN)


class LoopbackGraph:
    """A tiny HTTP/1.1 server on 127.0.0.1 answering like Graph, recording what it got."""

    def __init__(self) -> None:
        self.heads: list[str] = []
        self.port = 0

    def answer(self, target: str) -> tuple[int, object]:
        if "/owned_pixels" in target and "after=" not in target:
            # Meta's next links embed the token; the client must strip it.
            nxt = f"http://127.0.0.1:{self.port}/v25.0/{BIZ}/owned_pixels?after=X&access_token={SECRET}"
            return 200, {"data": [{"id": "1", "name": "a"}], "paging": {"next": nxt}}
        if "/owned_pixels" in target:
            return 200, {"data": [{"id": "2", "name": "b"}]}
        if target.startswith(f"/v25.0/{BIZ}?"):
            return 400, {"error": {"code": 100, "message": "bad", "fbtrace_id": "TRACE9"}}
        if target == "/v25.0/":
            return 200, [{"code": 200, "body": '{"success":true}'}]
        return 200, {"success": True, "id": PIXEL, "name": "p"}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        length = 0
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
        body = await reader.readexactly(length)
        self.heads.append(head.split("\r\n")[0])
        status, answer = self.answer(head.split(" ")[1])
        payload = json.dumps(answer).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n".encode()
            + payload
        )
        await writer.drain()
        writer.close()
        del body


@pytest.fixture
async def loopback() -> AsyncIterator[LoopbackGraph]:
    graph = LoopbackGraph()
    server = await asyncio.start_server(graph.handle, "127.0.0.1", 0)
    graph.port = server.sockets[0].getsockname()[1]
    async with server:
        yield graph


async def test_token_never_in_urls_or_logs(
    loopback: LoopbackGraph, caplog: pytest.LogCaptureFixture, clock: FakeClock
) -> None:
    for name in ("", "httpx", "httpcore", "bot.graph"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with GraphClient(
        base_url=f"http://127.0.0.1:{loopback.port}",
        app_secret=APP_SECRET,
        sleep=clock.sleep,
        clock=clock,
    ) as graph:
        await graph.get_pixel(TOKEN, PIXEL)
        await graph.share_pixel(TOKEN, PIXEL, AGENCY, ["ANALYZE"])
        await graph.unshare_pixel(TOKEN, PIXEL, AGENCY)
        assert len(await graph.list_owned_pixels(TOKEN, BIZ)) == 2
        await graph.link_ad_accounts(TOKEN, PIXEL, BIZ, ["1"])
        with pytest.raises(GraphInvalidParameter):
            await graph.get_business(TOKEN, BIZ)

    assert len(loopback.heads) == 7  # owned_pixels takes two pages
    assert all(SECRET not in head for head in loopback.heads)
    lines = [caplog.handler.format(record) for record in caplog.records]
    assert any(r.name == "httpx" for r in caplog.records)  # httpx logs full URLs at INFO
    assert any(r.name.startswith("httpcore") for r in caplog.records)
    assert all(SECRET not in line for line in lines)
    ours = [caplog.handler.format(r) for r in caplog.records if r.name.startswith("bot.graph")]
    assert all(PROOF not in line for line in ours)
    warning = next(r for r in caplog.records if r.name.startswith("bot.graph") and r.levelno >= 30)
    assert "code=100" in warning.getMessage() and "TRACE9" in warning.getMessage()
    assert "?" not in warning.getMessage()  # path only, no query
    assert getattr(warning, "fbtrace_id", None) == "TRACE9"


async def test_access_token_param_is_refused(loopback: LoopbackGraph) -> None:
    async with GraphClient(base_url=f"http://127.0.0.1:{loopback.port}") as graph:
        session = graph._session
        with pytest.raises(ValueError, match="Authorization"):
            await session.call("GET", session.url(PIXEL), TOKEN, {"access_token": SECRET})
    assert loopback.heads == []
