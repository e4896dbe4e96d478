"""Cursor paging: follow `paging.next` on the same host only, token kept in the header."""

from __future__ import annotations

from collections.abc import Mapping

import httpx
from pydantic import SecretStr

from bot.flows.meta.errors import GraphOtherError
from bot.graph.session import GraphSession, JsonObject

# A safety net against a server that keeps answering with a `next` link.
MAX_PAGES = 200
# Meta's `next` links may embed these; we send our own proof and never a token in a URL.
_STRIPPED = ("access_token", "appsecret_proof")


def next_url(session: GraphSession, body: JsonObject) -> httpx.URL | None:
    """The next page's URL, or None on the last page; refuses links to another host."""
    paging = body.get("paging")
    link = paging.get("next") if isinstance(paging, dict) else None
    if not isinstance(link, str) or not link:
        return None
    url = httpx.URL(link)
    origin = session.origin
    same_place = (
        url.scheme == origin.scheme
        and url.host == origin.host
        and url.port == origin.port
        and url.path.startswith(origin.path)
    )
    if not same_place:
        # Never log the link itself: Meta may have put the token in it.
        raise GraphOtherError("paging.next points outside the Graph base URL; not followed")
    kept = httpx.QueryParams([(k, v) for k, v in url.params.multi_items() if k not in _STRIPPED])
    return url.copy_with(query=str(kept).encode() or None)


async def get_all(
    session: GraphSession,
    path: str,
    token: SecretStr,
    params: Mapping[str, object] | None = None,
) -> list[JsonObject]:
    """Every item of an edge, following `paging.next` to the end (not stopping on a short page)."""
    url = session.url(path)
    query: Mapping[str, object] | None = params
    items: list[JsonObject] = []
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        body = await session.call_object("GET", url, token, query)
        data = body.get("data")
        if isinstance(data, list):
            items.extend(item for item in data if isinstance(item, dict))
        following = next_url(session, body)
        if following is None or str(following) in seen:
            return items
        seen.add(str(following))
        # The next link already carries every parameter of the first request.
        url, query = following, None
    raise GraphOtherError(f"more than {MAX_PAGES} pages; refusing to read further")
