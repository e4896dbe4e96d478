"""Settings: defaults, `.env`, and one clear line for every missing or malformed value."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from bot.cli import main
from bot.config import load_settings
from bot.errors import ConfigError
from bot.runtime import ServeOptions


def test_defaults_match_the_interface_contract() -> None:
    settings = load_settings(env_file=None)
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.graph_api_url == "https://graph.facebook.com"
    assert settings.graph_api_version == "v25.0"
    assert settings.database_url == "sqlite:///pixelbot.db"
    assert settings.slack_bot_token is None


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    (tmp_path / ".env").write_text(f"PIXELBOT_SECRET_KEY={key}\nGRAPH_API_VERSION=v26.0\n")
    settings = load_settings()
    assert settings.graph_api_version == "v26.0"
    assert settings.secret("pixelbot_secret_key") == key


def test_secrets_never_show_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-very-secret-value")
    settings = load_settings(env_file=None)
    assert "very-secret" not in repr(settings)
    assert "very-secret" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PIXELBOT_SECRET_KEY", "not-a-fernet-key", "PIXELBOT_SECRET_KEY is not valid"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN is not valid"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind", "SLACK_APP_TOKEN is not valid"),
        ("SLACK_SIGNING_SECRET", "changeme", "SLACK_SIGNING_SECRET is not valid"),
        ("GRAPH_API_VERSION", "25", "GRAPH_API_VERSION is not valid"),
        ("GRAPH_API_URL", "graph.facebook.com", "GRAPH_API_URL is not valid"),
        ("DATABASE_URL", "not a url", "DATABASE_URL is not valid"),
    ],
)
def test_malformed_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(env_file=None)
    message = str(caught.value)
    assert message.startswith(expected)
    assert "expected" in message
    assert "\n" not in message


def test_slack_api_url_gets_its_trailing_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    assert load_settings(env_file=None).slack_api_url == "http://127.0.0.1:9999/api/"


def test_missing_required_value_stops_serve_with_one_line() -> None:
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "pixelbot: SLACK_BOT_TOKEN is not set: expected a Slack bot token starting with xoxb-; "
        "or try pixelbot without a Slack app: pixelbot playground"
    ]
    assert "Traceback" not in result.output


def test_malformed_value_stops_the_command_without_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIXELBOT_SECRET_KEY", "short")
    result = CliRunner().invoke(main, ["business", "list"])
    assert result.exit_code == 2
    (line,) = result.output.strip().splitlines()
    assert line.startswith("pixelbot: PIXELBOT_SECRET_KEY is not valid")
    assert "pixelbot secret-key" in line


def test_secret_key_command_prints_a_usable_key() -> None:
    result = CliRunner().invoke(main, ["secret-key"])
    assert result.exit_code == 0
    Fernet(result.output.strip().encode())  # raises if it is not a Fernet key


def _served_options(monkeypatch: pytest.MonkeyPatch, *args: str) -> ServeOptions:
    """What `pixelbot serve ARGS` would run with (the server itself is not started)."""
    seen: list[ServeOptions] = []

    async def record(_settings: object, options: ServeOptions) -> None:
        seen.append(options)

    monkeypatch.setattr("bot.cli.serving.serve", record)
    result = CliRunner().invoke(main, ["serve", *args])
    assert result.exit_code == 0, result.output
    return seen[0]


def test_serve_listens_where_host_and_port_say(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    assert (_served_options(monkeypatch).host, _served_options(monkeypatch).port) == (
        "127.0.0.1",
        3000,
    )
    monkeypatch.setenv("HOST", "0.0.0.0")  # noqa: S104 - what a container sets
    monkeypatch.setenv("PORT", "8080")
    options = _served_options(monkeypatch)
    assert (options.host, options.port) == ("0.0.0.0", 8080)  # noqa: S104
    options = _served_options(monkeypatch, "--host", "127.0.0.2", "--port", "3001")
    assert (options.host, options.port) == ("127.0.0.2", 3001)


def test_a_bad_port_is_refused_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "http")
    result = CliRunner().invoke(main, ["serve"])
    assert result.exit_code == 2
    assert "PORT is not valid" in result.output
    assert "Traceback" not in result.output


def test_log_format_and_shutdown_deadline_defaults() -> None:
    settings = load_settings(env_file=None)
    assert settings.log_format == "text"
    assert settings.pixelbot_shutdown_seconds == 20
    assert load_settings(env_file=None, log_format="JSON").log_format == "json"
