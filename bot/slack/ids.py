"""Every action_id, callback_id and command name the app registers, each spelled once."""

from __future__ import annotations

from enum import StrEnum

COMMAND = "/pixel"


class Event(StrEnum):
    """Events API subscriptions (must match app_manifest.yaml)."""

    APP_HOME_OPENED = "app_home_opened"
