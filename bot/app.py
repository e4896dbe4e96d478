"""The Bolt app: `create_app(settings, services)`; nothing is built at import time."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

from bot.config import Settings
from bot.slack import actions, commands, errors, events, modals
from bot.slack.services import Services
from bot.slack.web_client import web_client


class _ClientCarriesTheToken(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment by itself and, since we also give it
    a client, warns that the token is unused. The client is built from that very token (so
    that SLACK_API_URL applies): the warning is noise on every start, for anyone alerting on
    warnings."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


_CLIENT_CARRIES_THE_TOKEN = _ClientCarriesTheToken()


def create_app(settings: Settings, services: Services) -> AsyncApp:
    """An AsyncApp with every listener registered, talking to SLACK_API_URL."""
    settings.require("slack_bot_token", "slack_signing_secret")
    bolt_log = logging.getLogger("slack_bolt.AsyncApp")  # the logger Bolt's AsyncApp uses
    if _CLIENT_CARRIES_THE_TOKEN not in bolt_log.filters:
        bolt_log.addFilter(_CLIENT_CARRIES_THE_TOKEN)
    client = web_client(settings.secret("slack_bot_token"), settings.slack_api_url)
    app = AsyncApp(
        client=client,
        signing_secret=settings.secret("slack_signing_secret"),
        # The gate (bot/slack/gate.py) verifies every HTTP request over its raw bytes before
        # Bolt sees it, and Socket Mode needs no signature: Bolt's own check is switched off
        # here, explicitly, rather than skipped as a side effect.
        request_verification_enabled=False,
        # One bot token: no installation store, no OAuth.
        installation_store=None,
    )
    services.work.attach(client)
    services.work.lease = float(settings.pixelbot_job_lease_seconds)
    services.work.workers = settings.pixelbot_job_workers
    errors.register(app)
    commands.register(app, services)
    events.register(app, services)
    actions.register(app, services)
    modals.register(app, services)
    return app
