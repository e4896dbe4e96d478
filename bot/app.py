"""The Bolt app: `create_app(settings, services)`; nothing is built at import time."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.config import Settings
from bot.slack import actions, commands, errors, events, modals
from bot.slack.services import Services
from bot.slack.web_client import web_client


def create_app(settings: Settings, services: Services) -> AsyncApp:
    """An AsyncApp with every listener registered, talking to SLACK_API_URL."""
    settings.require("slack_bot_token", "slack_signing_secret")
    client = web_client(settings.secret("slack_bot_token"), settings.slack_api_url)
    app = AsyncApp(
        client=client,
        signing_secret=settings.secret("slack_signing_secret"),
        # One bot token: no installation store, no OAuth.
        installation_store=None,
    )
    errors.register(app)
    commands.register(app, services)
    events.register(app, services)
    actions.register(app, services)
    modals.register(app, services)
    return app
