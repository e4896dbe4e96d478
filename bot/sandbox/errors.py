"""Graph API errors as the sandbox raises them, rendered in Meta's error envelope."""

from __future__ import annotations

import secrets
import string
from datetime import datetime
from typing import Any

_TRACE_ALPHABET = string.ascii_letters + string.digits
_DOCS = "Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"
RATE_LIMIT_SUBCODE = 2446079


def new_fbtrace_id() -> str:
    """A random alphanumeric trace id shaped like Meta's `fbtrace_id`."""
    return "".join(secrets.choice(_TRACE_ALPHABET) for _ in range(11))


class MetaError(Exception):
    """One Graph error; `envelope()` renders Meta's `{"error": {...}}` body."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        type_: str = "OAuthException",
        subcode: int | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
        status: int | None = None,
        is_transient: bool | None = None,
        regain_minutes: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.type = type_
        self.subcode = subcode
        self.user_title = user_title
        self.user_msg = user_msg
        # Meta answers 500 for its own unknown/service errors and 400 for the rest.
        self.status = status if status is not None else (500 if code in (1, 2) else 400)
        self.is_transient = is_transient
        # For throttling: the minutes the X-Business-Use-Case-Usage header should announce.
        self.regain_minutes = regain_minutes

    def envelope(self, fbtrace_id: str) -> dict[str, Any]:
        """Meta's error body; optional keys appear only when Meta would send them."""
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.is_transient is not None:
            error["is_transient"] = self.is_transient
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = fbtrace_id
        return {"error": error}


def unsupported(method: str, object_id: str) -> MetaError:
    """100/33: the object does not exist, is not visible to the token, or lacks the operation."""
    return MetaError(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. " + _DOCS,
        type_="GraphMethodException",
        subcode=33,
    )


def missing_param(name: str) -> MetaError:
    """100: a required parameter is absent."""
    return MetaError(100, f"(#100) The parameter {name} is required")


def invalid_param(
    message: str, *, user_title: str | None = None, user_msg: str | None = None
) -> MetaError:
    """100: a parameter value is rejected."""
    return MetaError(100, f"(#100) {message}", user_title=user_title, user_msg=user_msg)


def nonexisting_field(field: str, node: str) -> MetaError:
    """100: a requested field is not readable on this node."""
    return MetaError(
        100, f"(#100) Tried accessing nonexisting field ({field}) on node type ({node})"
    )


def permission_denied(user_msg: str) -> MetaError:
    """200: the token's business may not do this."""
    return MetaError(
        200, "(#200) Permissions error", user_title="Permission Denied", user_msg=user_msg
    )


def token_missing() -> MetaError:
    """104: no access token at all."""
    return MetaError(104, "An access token is required to request this resource.")


def token_invalid() -> MetaError:
    """190/467: the token is unknown (revoked or never issued)."""
    return MetaError(
        190,
        "Invalid OAuth access token - Cannot parse access token",
        subcode=467,
        user_title="Invalid access token",
        user_msg="The access token is invalid or has been revoked. Generate a new token.",
    )


def token_expired(now: datetime) -> MetaError:
    """190/463: the token expired."""
    stamp = now.strftime("%A, %d-%b-%y %H:%M:%S %Z")
    return MetaError(
        190,
        f"Error validating access token: Session has expired. The current time is {stamp}.",
        subcode=463,
        user_title="Access token expired",
        user_msg="The access token has expired. Generate a new token for this business.",
    )


def proof_invalid(missing: bool) -> MetaError:
    """100: `appsecret_proof` is absent or does not match the token."""
    message = (
        "API calls from the server require an appsecret_proof argument"
        if missing
        else "Invalid appsecret_proof provided in the API argument"
    )
    return MetaError(100, message, type_="GraphMethodException")


def rate_limited(regain_minutes: int) -> MetaError:
    """80004/2446079: the business-use-case (Ads Management) budget is spent."""
    return MetaError(
        80004,
        "(#80004) There have been too many calls to this ad-account. Wait a bit and try again. "
        "For more info, please refer to "
        "https://developers.facebook.com/docs/graph-api/overview/rate-limiting#ads-management.",
        subcode=RATE_LIMIT_SUBCODE,
        user_title="Too many calls",
        user_msg="There have been too many calls for this business. Wait a bit and try again.",
        regain_minutes=regain_minutes,
    )


def transient(code: int = 2) -> MetaError:
    """1 or 2, HTTP 500: Meta's temporary failures, marked transient."""
    message = (
        "An unknown error occurred"
        if code == 1
        else "An unexpected error has occurred. Please retry your request later."
    )
    return MetaError(code, message, is_transient=True)
