"""The failures of the port: one tree, carrying Meta's error fields.

Which Meta error code becomes which class is decided in one place, `bot.graph.errors`;
here are only the classes the flows catch and what they mean.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class GraphError(Exception):
    """Any failed Graph call; carries Meta's error fields (all optional) and the HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        error_subcode: int | None = None,
        type: str | None = None,
        error_user_title: str | None = None,
        error_user_msg: str | None = None,
        fbtrace_id: str | None = None,
        http_status: int | None = None,
        is_transient: bool = False,
        error_data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.error_subcode = error_subcode
        self.type = type
        self.error_user_title = error_user_title
        self.error_user_msg = error_user_msg
        self.fbtrace_id = fbtrace_id
        self.http_status = http_status
        self.is_transient = is_transient
        self.error_data: Mapping[str, Any] = error_data or {}

    @property
    def user_message(self) -> str:
        """Meta's localized text meant for end users, else the developer message."""
        return self.error_user_msg or self.message

    def __str__(self) -> str:
        code = f"#{self.code}" if self.code is not None else "no code"
        sub = f"/{self.error_subcode}" if self.error_subcode is not None else ""
        trace = f" fbtrace_id={self.fbtrace_id}" if self.fbtrace_id else ""
        return f"({code}{sub}, HTTP {self.http_status}) {self.message}{trace}"


class GraphAuthError(GraphError):
    """The token is invalid, expired or revoked (190, 102): rotate it, do not retry."""


class GraphPermissionError(GraphError):
    """The token lacks a permission or role (10, 200-299): surface to the user."""


class GraphInvalidParameter(GraphError):
    """Meta rejected a parameter or an unknown object/field (100)."""


class GraphRateLimited(GraphError):
    """Throttled (4, 17, 32, 613, 80000-80014); `retry_after` is Meta's estimate in seconds."""

    retry_after: float | None = None


class GraphTransientError(GraphError):
    """A temporary failure (1, 2, 341, is_transient, HTTP 5xx, network): safe to retry later."""


class GraphTimeout(GraphTransientError):
    """The request was sent and no outcome came back: Meta MAY have applied it (check first).

    A GraphTimeout proper: Meta did not answer within `waited` seconds (None: not known).
    The subclasses say what else lost the answer, so that nobody is told of a timeout that
    wasn't.
    """

    waited: float | None = None


class GraphConnectionLost(GraphTimeout):
    """The connection broke (reset, closed) after the request was sent, before any answer."""


class GraphAnswerUnclear(GraphTimeout):
    """Meta answered, but not whether it applied the request: HTTP 5xx (or an unreadable
    body) without a Graph error object. `http_status` says which."""


class GraphConnectError(GraphTransientError):
    """The request never reached Meta (connect or pool failure): safe to retry, even a write."""


class GraphBlocked(GraphError):
    """Temporarily blocked for policy reasons (368): wait, do not hammer."""


class GraphOtherError(GraphError):
    """Any other Graph failure, including malformed answers."""


def outcome_unknown(error: GraphError) -> bool:
    """True when Meta may have applied the request: only a Graph error object proves it did not."""
    if isinstance(error, GraphConnectError):
        return False
    return isinstance(error, GraphTimeout) or (
        isinstance(error, GraphTransientError) and error.code is None
    )
