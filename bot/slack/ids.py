"""Every action_id, callback_id and command name the app registers, each spelled once."""

from __future__ import annotations

from enum import StrEnum

COMMAND = "/pixel"


class Event(StrEnum):
    """Events API subscriptions (must match app_manifest.yaml)."""

    APP_HOME_OPENED = "app_home_opened"


class Action(StrEnum):
    """Buttons; a button's `value` carries only our own ids, never anything to trust."""

    APPROVE = "request_approve"  # value: share request id
    DECLINE = "request_decline"  # value: share request id (opens the decline modal)
    UNSHARE_CONFIRM = "unshare_confirm"  # value: "PIXEL_ID:AGENCY_BUSINESS_ID"
    UNSHARE_ABORT = "unshare_abort"
    HISTORY_MORE = "history_more"  # value: "PIXEL_ID_OR_EMPTY:PAGE"


class Callback(StrEnum):
    """Modal callback ids."""

    SHARE = "share_modal"
    DECLINE = "decline_modal"  # private_metadata: share request id


class Field(StrEnum):
    """block_id of modal inputs (field errors are keyed by these); action_id is VALUE."""

    PIXEL = "pixel"
    AGENCY = "agency"
    TASKS = "tasks"
    NOTE = "note"
    REASON = "reason"
    VALUE = "value"
