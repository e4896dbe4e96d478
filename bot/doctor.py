"""`pixelbot doctor`: is everything pixelbot depends on in place? One `Check` per finding.

Checks the database (reachable, at migration head), the secret key (opens every stored
token), each business's Meta token (valid, acting for it, allowed to list its pixels), its
admins and approvals channel, and Slack's bot token. Tokens appear only as fingerprints.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from pydantic import SecretStr
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.errors import ConfigError
from bot.graph.client import GraphClient
from bot.graph.errors import (
    GraphAuthError,
    GraphError,
    GraphInvalidParameter,
    GraphPermissionError,
)
from bot.graph.retry import RetryPolicy
from bot.store import migrate
from bot.store.db import create_engine, ping, session_factory
from bot.store.repositories import Admins, Businesses
from bot.tokens import TokenBox

# A doctor should answer in seconds: one retry at most, not the serving budget of 90 s.
DOCTOR_RETRY = RetryPolicy(max_attempts=2, base_delay=0.5, max_delay=2.0, budget=5.0)
SLACK_TIMEOUT_SECONDS = 10
# Meta names the permission either before "permission" or after "(extended) permission(:)".
_PERMISSION = re.compile(r"\b([a-z]+(?:_[a-z]+)+) permission|permission:?\s+([a-z]+(?:_[a-z]+)+)")
_SLACK_AUTH_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "token_expired"}
_FIX_SLACK_AUTH = (
    "set SLACK_BOT_TOKEN to the app's Bot User OAuth Token (xoxb-…, under OAuth & Permissions)"
)


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, whether it is fine, what was seen, and how to fix it."""

    name: str
    ok: bool
    detail: str
    hint: str | None = None

    def line(self) -> str:
        """The finding as one line of the report."""
        if self.ok:
            return f"ok    {self.name}: {self.detail}"
        fix = f" — fix: {self.hint}" if self.hint else ""
        return f"FAIL  {self.name}: {self.detail}{fix}"


@dataclass(frozen=True)
class Registered:
    """A registered business as the doctor needs it (the token still sealed)."""

    business_id: str
    name: str
    channel: str | None
    ciphertext: bytes
    fingerprint: str
    admins: int

    @property
    def label(self) -> str:
        """Name and id, as operators know it."""
        return f"{self.name} ({self.business_id})"

    def re_add(self, extra: str = "") -> str:
        """The command that stores a new token for this business."""
        name = shlex.quote(self.name)
        add = f"pixelbot business add {self.business_id} --name {name}{extra}"
        return f"`{add} --token-stdin --replace`"


def summary(checks: Sequence[Check]) -> str:
    """The report's last line."""
    failed = sum(not c.ok for c in checks)
    if failed:
        return f"{failed} of {len(checks)} checks failed"
    return f"all {len(checks)} checks passed"


async def run_checks(
    settings: Settings,
    *,
    graph: GraphClient | None = None,
    slack_client: AsyncWebClient | None = None,
) -> list[Check]:
    """Every check, in report order; clients not given are built from `settings`."""
    checks, businesses = await _registry_checks(settings)
    secret, tokens = check_secret_key(settings, businesses)
    checks.append(secret)
    checks += await _slack_checks(settings, slack_client, businesses)
    checks += await _graph_checks(settings, graph, businesses, tokens)
    checks += [check_admins(b) for b in businesses]
    return checks


# Database and registry.


def _missing_sqlite_file(database_url: str) -> Check | None:
    """A failure when DATABASE_URL names an SQLite file that is not there (SQLite would
    silently create an empty one on connect)."""
    url = make_url(database_url)
    path = url.database
    if url.get_backend_name() != "sqlite" or not path or path == ":memory:" or "uri" in url.query:
        return None
    if Path(path).exists():
        return None
    hint = "check DATABASE_URL, or create it with `pixelbot db upgrade`"
    return Check("database", False, f"the SQLite file {path} does not exist", hint)


async def _registry_checks(settings: Settings) -> tuple[list[Check], list[Registered]]:
    """The database check, and the registered businesses when they can be read."""
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:
        return [missing], []
    engine = create_engine(settings.database_url)
    try:
        database, readable = await check_database(settings, engine)
        loaded = await load_registry(engine) if readable else []
    finally:
        await engine.dispose()
    if isinstance(loaded, Check):
        return [database, loaded], []
    if readable and not loaded:
        hint = "`pixelbot business add BUSINESS_ID --name NAME --token-stdin`"
        return [database, Check("businesses", False, "no business is registered yet", hint)], []
    return [database], loaded


async def check_database(settings: Settings, engine: AsyncEngine) -> tuple[Check, bool]:
    """Reachable and at the newest migration; also whether the registry can be read."""
    shown = make_url(settings.database_url).render_as_string(hide_password=True)
    try:
        await ping(engine)
        current = await migrate.current_revision(engine)
        head = migrate.head_revision()
    except (SQLAlchemyError, OSError) as exc:
        detail = f"cannot reach {shown}: {type(exc).__name__}: {_first_line(exc)}"
        hint = "check DATABASE_URL and that the server is up"
        return Check("database", False, detail, hint), False
    except ConfigError as exc:
        return Check("database", False, str(exc)), False
    if current == head:
        return Check("database", True, f"{shown} is reachable and at migration head {head}"), True
    where = f"at revision {current}" if current else "empty (no migration applied)"
    detail = f"{shown} is {where}, this pixelbot needs {head}"
    return Check("database", False, detail, "run `pixelbot db upgrade`"), current is not None


async def load_registry(engine: AsyncEngine) -> list[Registered] | Check:
    """Every registered business with its admin count, or the failure to read them."""
    try:
        async with session_factory(engine)() as session:
            businesses = await Businesses(session).all()
            admins = await Admins(session).list()
    except (SQLAlchemyError, OSError) as exc:
        detail = f"cannot read the registered businesses: {_first_line(exc)}"
        return Check("businesses", False, detail, "run `pixelbot db upgrade`")
    counts: dict[str, int] = {}
    for grant in admins:
        counts[grant.business_id] = counts.get(grant.business_id, 0) + 1
    return [
        Registered(
            b.business_id,
            b.name,
            b.approvals_channel,
            b.token_ciphertext,
            b.token_fingerprint,
            counts.get(b.business_id, 0),
        )
        for b in businesses
    ]


def check_secret_key(
    settings: Settings, businesses: Sequence[Registered]
) -> tuple[Check, dict[str, SecretStr]]:
    """The key is set and opens every stored token; the opened tokens by business id."""
    key = settings.pixelbot_secret_key
    if key is None:
        detail = "PIXELBOT_SECRET_KEY is not set, so no stored Meta token can be read"
        hint = "set it to the key the tokens were stored with (`pixelbot secret-key` for a new one)"
        return Check("secret key", False, detail, hint), {}
    box, tokens, failed = TokenBox(key), {}, []
    for business in businesses:
        try:
            tokens[business.business_id] = box.open(business.ciphertext)
        except ConfigError:
            failed.append(business.label)
    if failed:
        detail = f"cannot decrypt the stored token of {', '.join(failed)}"
        hint = (
            "PIXELBOT_SECRET_KEY is not the key they were stored with: set that key, "
            "or store each token again with `pixelbot business add ID --name NAME "
            "--token-stdin --replace`"
        )
        return Check("secret key", False, detail, hint), tokens
    return Check("secret key", True, f"opens the {len(tokens)} stored token(s)"), tokens


def check_admins(business: Registered) -> Check:
    """At least one Slack user may act for the business."""
    name = f"admins of {business.label}"
    if business.admins:
        return Check(name, True, f"{business.admins} Slack user(s) may act for it")
    hint = f"`pixelbot admin grant SLACK_USER_ID {business.business_id}`"
    return Check(name, False, "nobody may approve or act for it", hint)


# Meta.


async def _graph_checks(
    settings: Settings,
    graph: GraphClient | None,
    businesses: Sequence[Registered],
    tokens: Mapping[str, SecretStr],
) -> list[Check]:
    targets = [b for b in businesses if b.business_id in tokens]
    if not targets:
        return []
    client = graph or GraphClient(
        base_url=settings.graph_api_url,
        version=settings.graph_api_version,
        app_secret=settings.meta_app_secret,
        retry=DOCTOR_RETRY,
    )
    try:
        return list(
            await asyncio.gather(*(check_token(client, b, tokens[b.business_id]) for b in targets))
        )
    finally:
        if graph is None:
            await client.aclose()


async def check_token(graph: GraphClient, business: Registered, token: SecretStr) -> Check:
    """The token is valid, Meta knows the business, and the token may list its owned pixels."""
    name = f"token {business.fingerprint} of {business.label}"
    step = f"GET /{business.business_id}"
    try:
        meta = await graph.get_business(token, business.business_id)
        step = f"GET /{business.business_id}/owned_pixels"
        pixels = await graph.list_owned_pixels(token, business.business_id)
    except GraphError as error:
        return _graph_failure(name, business, step, error)
    detail = f"valid, acts for {meta.name!r} (Meta's name); lists its {len(pixels)} owned pixel(s)"
    return Check(name, True, detail)


def _graph_failure(name: str, business: Registered, step: str, error: GraphError) -> Check:
    code = f"#{error.code}" + (f"/{error.error_subcode}" if error.error_subcode else "")
    if isinstance(error, GraphAuthError):
        hint = f"make a new token, then {business.re_add()}"
        return Check(name, False, f"token expired or revoked ({code})", hint)
    if isinstance(error, GraphPermissionError):
        permission = missing_permission(error)
        what = f"the {permission} permission is missing" if permission else "permission denied"
        detail = f"{step}: {what} ({code}): {error.user_message}"
        hint = (
            f"give the system user {permission or 'business_management'} on this business "
            f"and access to its pixels, then store its new token with {business.re_add()}"
        )
        return Check(name, False, detail, hint)
    if isinstance(error, GraphInvalidParameter):
        detail = f"{step}: Meta cannot load the business with this token ({code})"
        hint = "check the business id (`pixelbot business list`) and whose token this is"
        return Check(name, False, detail, hint)
    said = error if error.code is not None else error.message  # no code: say what happened
    detail = f"{step}: no usable answer from Meta: {said}"
    return Check(name, False, detail, "check GRAPH_API_URL, then run the doctor again")


def missing_permission(error: GraphError) -> str | None:
    """The permission Meta's message names (e.g. business_management), if it names one."""
    for text in (error.message, error.error_user_msg or ""):
        match = _PERMISSION.search(text)
        if match:
            return match.group(1) or match.group(2)
    return None


# Slack.


async def _slack_checks(
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


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0][:200] if text else ""
