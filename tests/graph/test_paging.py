"""Paging: follow `paging.next` to the end, on the same host only, token in the header."""

from __future__ import annotations

import httpx
import pytest

from bot.flows.meta.errors import GraphOtherError
from bot.graph import GraphClient

from .conftest import BIZ, PIXEL, TOKEN, Recorder, graph_json

SECRET = TOKEN.get_secret_value()


def page(ids: list[str], next_url: str | None = None) -> httpx.Response:
    body: dict[str, object] = {"data": [{"id": i, "name": f"P{i}"} for i in ids]}
    if next_url:
        body["paging"] = {"cursors": {"after": "c"}, "next": next_url}
    return graph_json(body)


async def test_follows_next_until_absent_even_after_short_pages(
    client: GraphClient, recorder: Recorder
) -> None:
    base = f"https://graph.facebook.com/v25.0/{BIZ}/owned_pixels"
    pages = {
        None: page(["1", "2"], f"{base}?fields=id%2Cname&limit=2&after=A&access_token={SECRET}"),
        "A": page(["3"], f"{base}?fields=id%2Cname&limit=2&after=B"),
        "B": page([]),
    }
    recorder.handler = lambda r: pages[r.url.params.get("after")]
    pixels = await client.list_owned_pixels(TOKEN, BIZ)

    assert [p.id for p in pixels] == ["1", "2", "3"]
    assert len(recorder.requests) == 3
    for request in recorder.requests:
        assert SECRET not in str(request.url)
        assert request.headers["authorization"] == f"Bearer {SECRET}"
        assert list(request.url.params.keys()).count("appsecret_proof") == 1
    assert recorder.requests[1].url.params["after"] == "A"
    assert recorder.requests[1].url.params["fields"] == "id,name"


@pytest.mark.parametrize(
    "foreign",
    [
        "https://evil.example.com/v25.0/1/owned_pixels?after=A",
        "http://graph.facebook.com/v25.0/1/owned_pixels?after=A",
        "https://graph.facebook.com:8443/v25.0/1/owned_pixels?after=A",
    ],
)
async def test_refuses_next_link_to_another_place(
    client: GraphClient, recorder: Recorder, foreign: str
) -> None:
    recorder.handler = lambda r: page(["1"], foreign)
    with pytest.raises(GraphOtherError, match="paging"):
        await client.list_client_pixels(TOKEN, BIZ)
    assert len(recorder.requests) == 1


async def test_stops_on_a_repeated_next_link(client: GraphClient, recorder: Recorder) -> None:
    same = f"https://graph.facebook.com/v25.0/{PIXEL}/agencies?after=A"
    recorder.handler = lambda r: page(["1"], same)
    agencies = await client.list_agencies(TOKEN, PIXEL)
    assert len(agencies) == 2 and len(recorder.requests) == 2


async def test_paging_under_a_base_path(recorder: Recorder) -> None:
    base = "http://127.0.0.1:9000/sandbox"
    recorder.handler = lambda r: (
        page(["1"], f"{base}/v25.0/{BIZ}/client_pixels?after=A")
        if "after" not in r.url.params
        else page(["2"])
    )
    async with GraphClient(base_url=base, transport=recorder.transport()) as graph:
        pixels = await graph.list_client_pixels(TOKEN, BIZ)
    assert [p.id for p in pixels] == ["1", "2"]
    assert recorder.requests[1].url.path == f"/sandbox/v25.0/{BIZ}/client_pixels"
