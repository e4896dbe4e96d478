"""Events API listeners."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.flows import looking
from bot.slack import dedupe
from bot.slack.ids import Event
from bot.slack.services import Services
from bot.slack.times import now
from bot.slack.view_blocks import home_view


def register(app: AsyncApp, services: Services) -> None:
    """Register the event listeners."""

    # A redelivered event (Slack's retry, or the same event on another replica) stops here.
    @app.event(Event.APP_HOME_OPENED.value, middleware=[dedupe.middleware(services)])
    async def home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        # The event also fires for the Messages tab; publishing then would be wasted work.
        user = event.get("user")
        if event.get("tab") != "home" or not isinstance(user, str):
            return  # no Home tab to draw, or no one to draw it for
        # Bolt runs event listeners in an untracked task; Background lets shutdown finish it
        # and logs a failure with an error id (there is nobody to reply to).
        services.background.spawn(_publish_home(services, client, user), None)


async def _publish_home(services: Services, client: AsyncWebClient, user: str) -> None:
    waiting = await looking.waiting(services.flows, user)
    await client.views_publish(user_id=user, view=home_view(waiting, now(), services.sandbox))
