"""Doctor checks of Slack: the bot token and each approvals channel."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Settings
from bot.doctor.report import Check, Registered

SLACK_TIMEOUT_SECONDS = 10
_SLACK_AUTH_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "token_expired"}
_FIX_SLACK_AUTH = (
    "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…, under OAuth & Permissions)"
)


async def slack_checks(
    settings: Settings, client: AsyncWebClient | None, businesses: Sequence[Registered]
) -> list[Check]:
    if client is None:
        if settings.slack_bot_token is None:
            return [Check("slack", False, "SLACK_BOT_TOKEN is not set", _FIX_SLACK_AUTH)]
        client = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            timeout=SLACK_TIMEOUT_SECONDS,
        )
    auth = await check_slack_auth(client)
    if not auth.ok:
        return [auth]
    channels = [check_channel(client, b) for b in businesses]
    return [auth, *await asyncio.gather(*channels)]


async def check_slack_auth(client: AsyncWebClient) -> Check:
    """Slack accepts the bot token (`auth.test`)."""
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        detail, hint = _slack_error(exc.response.data)
        return Check("slack", False, f"auth.test: {detail}; channels not checked", hint)
    except (aiohttp.ClientError, TimeoutError) as exc:
        detail = f"cannot reach Slack at {client.base_url}: {type(exc).__name__}"
        return Check("slack", False, detail, "check SLACK_API_URL and the network")
    user = response.get("user") or response.get("user_id")
    detail = f"auth.test as {user} ({response.get('user_id')}) in {response.get('team_id')}"
    return Check("slack", True, detail)


async def check_channel(client: AsyncWebClient, business: Registered) -> Check:
    """The business's approvals channel exists, is not archived, and has the bot in it."""
    if business.channel is None:
        return Check(f"channel of {business.label}", True, "none set (admins use /pixel pending)")
    name = f"channel {business.channel} of {business.name}"
    other = business.re_add(" --channel CHANNEL_ID")
    try:
        response = await client.conversations_info(channel=business.channel)
    except SlackApiError as exc:
        if exc.response.get("error") == "channel_not_found":
            missing = "the channel does not exist (or is private without the bot in it)"
            return Check(name, False, missing, f"invite the bot, or set another with {other}")
        detail, hint = _slack_error(exc.response.data)
        return Check(name, False, f"conversations.info: {detail}", hint)
    except (aiohttp.ClientError, TimeoutError) as exc:
        return Check(name, False, f"cannot reach Slack: {type(exc).__name__}", "try again")
    info: dict[str, Any] = response.get("channel") or {}
    if info.get("is_archived"):
        return Check(name, False, "the channel is archived", f"unarchive it, or use {other}")
    if not info.get("is_member"):
        return Check(name, False, "the bot is not a member", "/invite @pixelbot in that channel")
    return Check(name, True, f"#{info.get('name', business.channel)}, the bot is a member")


def _slack_error(data: object) -> tuple[str, str | None]:
    """What a failed Slack call means, and how to fix it."""
    body = data if isinstance(data, dict) else {}
    error = str(body.get("error", "unknown_error"))
    if error == "missing_scope":
        scope = body.get("needed") or "channels:read, groups:read"
        hint = "add it under OAuth & Permissions (see app_manifest.yaml) and reinstall the app"
        return f"the bot token lacks the scope {scope}", hint
    if error in _SLACK_AUTH_ERRORS:
        return f"Slack refused the bot token ({error})", _FIX_SLACK_AUTH
    return f"Slack answered {error}", None
