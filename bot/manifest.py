"""The Slack app manifest shipped with pixelbot, with the operator's host filled in."""

from __future__ import annotations

import re
from importlib.resources import files
from typing import Any

import yaml

from bot.errors import ConfigError

# The host the shipped manifest is written with; `render` puts the operator's in its place.
EXAMPLE_BASE_URL = "https://pixelbot.example.com"
_BASE_URL = re.compile(r"https://[A-Za-z0-9.-]+(:\d{1,5})?(/[A-Za-z0-9._~/-]*)?")


def template() -> str:
    """The manifest as shipped (app_manifest.yaml), comments included."""
    return (files("bot") / "app_manifest.yaml").read_text(encoding="utf-8")


def render(base_url: str | None, *, socket_mode: bool = False) -> str:
    """The manifest for an app reached at `base_url`, or over Socket Mode (no URL at all)."""
    if socket_mode:
        return _for_socket_mode(yaml.safe_load(template()))
    if base_url is None:
        raise ConfigError("give --url https://HOST (the public address of pixelbot serve)")
    base = base_url.strip().rstrip("/")
    if not _BASE_URL.fullmatch(base):
        raise ConfigError(
            f"--url must be the https:// address that reaches pixelbot serve, such as "
            f"https://pixelbot.acme.com; got {base_url!r}"
        )
    # Text, not YAML round trip, so the comments that explain each scope stay.
    return template().replace(EXAMPLE_BASE_URL, base)


def _for_socket_mode(manifest: dict[str, Any]) -> str:
    """Slack delivers everything over the socket: no request URL may be declared."""
    features, settings = manifest["features"], manifest["settings"]
    for command in features.get("slash_commands", []):
        command.pop("url", None)
    settings["event_subscriptions"].pop("request_url", None)
    settings["interactivity"].pop("request_url", None)
    settings["socket_mode_enabled"] = True
    header = "# Slack app manifest for pixelbot in Socket Mode (pixelbot serve --socket-mode).\n"
    return header + yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True)
