"""Errors shared by every layer; each carries a message that is safe to show a user."""

from __future__ import annotations


class PixelbotError(Exception):
    """Base of every expected failure; `str(error)` is the user-facing sentence."""


class ConfigError(PixelbotError):
    """A setting is missing or malformed."""


class InvalidInput(PixelbotError):
    """Input failed validation; nothing was changed."""


class NotFound(PixelbotError):
    """The thing named does not exist (yet)."""


class Conflict(PixelbotError):
    """The change would duplicate or contradict what already exists."""
