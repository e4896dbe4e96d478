"""Settings: every variable of the interface contract, read once from the environment or `.env`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.fernet import Fernet
from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite:///pixelbot.db"

# Values copied from tutorials; refusing them early beats a confusing 401 from Slack later.
_PLACEHOLDERS = {"changeme", "change-me", "secret", "xxx", "todo", "your-signing-secret"}

# What each variable should look like, for the one-line error that names it.
_EXPECTED = {
    "slack_bot_token": "a Slack bot token starting with xoxb-",
    "slack_signing_secret": "the app's signing secret (Basic Information > App Credentials)",
    "slack_app_token": "an app-level token starting with xapp- (Socket Mode only)",
    "slack_api_url": "an http(s) URL ending in /, such as https://slack.com/api/",
    "database_url": "an SQLAlchemy URL such as sqlite:///pixelbot.db or postgresql://host/db",
    "graph_api_url": "an http(s) URL such as https://graph.facebook.com",
    "graph_api_version": "a Graph API version such as v25.0",
    "meta_app_secret": "the Meta app's secret (App settings > Basic)",
    "pixelbot_secret_key": "a Fernet key; run `pixelbot secret-key` to make one",
    "log_level": "one of DEBUG, INFO, WARNING, ERROR",
    "log_format": "text (for people) or json (one object per line, for log collectors)",
    "host": "the address pixelbot serve listens on, such as 127.0.0.1 or 0.0.0.0",
    "port": "the port pixelbot serve listens on, 1 to 65535",
    "pixelbot_shutdown_seconds": "seconds in-flight work gets after SIGTERM before exit",
    "pixelbot_allow_self_approval": "true or false",
    "pixelbot_reconcile_seconds": "seconds between reconciler passes (0 turns them off)",
    "pixelbot_claim_lease_seconds": "seconds after which an unfinished claim is recovered",
    "pixelbot_job_lease_seconds": "seconds after which work a dead process held is resumed",
    "pixelbot_job_workers": "how many jobs one process runs at once, 1 to 256",
    "pixelbot_remind_after_hours": "hours before the first reminder (0 turns them off)",
    "pixelbot_expire_after_hours": "hours after which pixelbot cancels a request (0: never)",
}


def _not_placeholder(value: SecretStr | None) -> SecretStr | None:
    if value is not None:
        text = value.get_secret_value().strip()
        if not text or text.lower() in _PLACEHOLDERS:
            raise ValueError("placeholder or empty value")
    return value


Secret = Annotated[SecretStr | None, AfterValidator(_not_placeholder)]


class Settings(BaseSettings):
    """Configuration of one pixelbot process; secrets stay `SecretStr` end to end."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: Secret = None
    slack_signing_secret: Secret = None
    slack_app_token: Secret = None
    slack_api_url: str = "https://slack.com/api/"
    database_url: str = DEFAULT_DATABASE_URL
    graph_api_url: str = "https://graph.facebook.com"
    graph_api_version: str = "v25.0"
    meta_app_secret: Secret = None
    pixelbot_secret_key: Secret = None
    # Whether the person who asked for a share may also approve it (as an agency admin).
    pixelbot_allow_self_approval: bool = False
    # Upkeep (reconciler, crash recovery, reminders, local expiry); see README "Staying true".
    pixelbot_reconcile_seconds: int = Field(default=300, ge=0)  # 0: no periodic pass
    # Longer than one Graph call can last with its retries (60 s reads, 90 s retry budget).
    pixelbot_claim_lease_seconds: int = Field(default=300, ge=1)
    # A running job renews its lease every third of this; a dead process's job waits this.
    pixelbot_job_lease_seconds: int = Field(default=60, ge=3)
    # Jobs run at once per process; more wait (in memory, and in the table for any replica).
    # Acks come first: every running job takes CPU and connections from the ack path.
    pixelbot_job_workers: int = Field(default=64, ge=1, le=256)
    pixelbot_remind_after_hours: float = Field(default=24.0, ge=0)  # 0: no reminders
    pixelbot_expire_after_hours: float = Field(default=0.0, ge=0)  # 0: never expire locally
    log_level: str = Field(default="INFO", pattern=r"(?i)^(DEBUG|INFO|WARNING|ERROR)$")
    log_format: Literal["text", "json"] = "text"
    # Where `serve` listens; a container sets HOST=0.0.0.0. The command's flags win.
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=3000, ge=1, le=65535)
    # Under Kubernetes' default 30 s grace period, so the process exits before it is killed.
    pixelbot_shutdown_seconds: float = Field(default=20.0, ge=0)

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, v: object) -> object:
        return v.lower() if isinstance(v, str) else v

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().startswith("xoxb-"):
            raise ValueError("wrong prefix")
        return v

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and not v.get_secret_value().startswith("xapp-"):
            raise ValueError("wrong prefix")
        return v

    @field_validator("slack_api_url", "graph_api_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", v):
            raise ValueError("not an http(s) URL")
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, v: str) -> str:
        # slack_sdk joins base_url and method names without adding a slash.
        return v if v.endswith("/") else v + "/"

    @field_validator("graph_api_version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not re.fullmatch(r"v\d+\.\d+", v):
            raise ValueError("not a version")
        return v

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(v)
        except ArgumentError as exc:
            raise ValueError("not a database URL") from exc
        return v

    @field_validator("pixelbot_secret_key")
    @classmethod
    def _fernet_key(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None:
            try:
                Fernet(v.get_secret_value().encode())
            except (ValueError, TypeError) as exc:
                raise ValueError("not a Fernet key") from exc
        return v

    def require(self, *names: str) -> None:
        """Fail with one line naming the first of `names` that is not set."""
        for name in names:
            if getattr(self, name) is None:
                raise ConfigError(f"{name.upper()} is not set: expected {_EXPECTED[name]}")

    def secret(self, name: str) -> str:
        """The clear value of a required secret setting (after `require`)."""
        self.require(name)
        value: SecretStr = getattr(self, name)
        return value.get_secret_value()


def load_settings(env_file: Path | None = Path(".env"), **overrides: Any) -> Settings:
    """Read settings; a bad value becomes a `ConfigError` naming the variable, never a traceback."""
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "configuration"
        expected = _EXPECTED.get(name, "a valid value")
        reason = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{name.upper()} is not valid ({reason}): expected {expected}") from None
