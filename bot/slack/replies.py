"""Replying where there is no response_url (modal submissions, events): a DM to the user."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient


class DirectMessage:
    """A `respond`-like callable that DMs the user instead (the app's Messages tab)."""

    def __init__(self, client: AsyncWebClient, user: str) -> None:
        self._client = client
        self._user = user

    async def __call__(self, **kwargs: Any) -> None:
        await self._client.chat_postMessage(
            channel=self._user, text=kwargs.get("text", ""), blocks=kwargs.get("blocks")
        )
