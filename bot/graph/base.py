"""What every group of Graph calls shares: the session and three small call shapes."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from bot.graph.paging import get_all
from bot.graph.session import GraphSession


class GraphCalls:
    """Base of the client's call groups; holds the one GraphSession."""

    _session: GraphSession

    async def _get(self, token: SecretStr, path: str, **params: object) -> dict[str, Any]:
        return await self._session.call_object("GET", self._session.url(path), token, params)

    async def _write(self, method: str, token: SecretStr, path: str, **params: object) -> None:
        # Errors, including `success: false`, are raised by the session.
        await self._session.call_object(method, self._session.url(path), token, params)

    async def _list(self, token: SecretStr, path: str, **params: object) -> list[dict[str, Any]]:
        return await get_all(self._session, path, token, params)
