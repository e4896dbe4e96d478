"""Events API listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import home_view
from bot.slack.ids import Event
from bot.slack.services import Services


def register(app: AsyncApp, services: Services) -> None:
    """Register the event listeners."""

    @app.event(Event.APP_HOME_OPENED.value)
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        # The event also fires for the Messages tab; publishing then would be wasted work.
        if event.get("tab") != "home":
            return
        await client.views_publish(user_id=event["user"], view=home_view(services.sandbox))
