"""Doctor checks of the database, the stored tokens' key, and the admins."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.config import Settings
from bot.doctor.report import Check, Registered
from bot.errors import ConfigError
from bot.store import migrate
from bot.store.db import create_engine, ping, session_factory, sqlite_file
from bot.store.repositories import Admins, Businesses
from bot.tokens import TokenBox


def _missing_sqlite_file(database_url: str) -> Check | None:
    """A failure when DATABASE_URL names an SQLite file that is not there (SQLite would
    silently create an empty one on connect)."""
    path = sqlite_file(database_url)
    if path is None or path.exists():
        return None
    hint = "check DATABASE_URL, or create it with `pixelbot db upgrade`"
    return Check("database", False, f"the SQLite file {path} does not exist", hint)


async def registry_checks(settings: Settings) -> tuple[list[Check], list[Registered]]:
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


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.splitlines()[0][:200] if text else ""
