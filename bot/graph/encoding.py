"""Request encoding as Meta's Python SDK does it, appsecret_proof, and id validation."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping

from pydantic import SecretStr

# ASCII digits only: str.isdigit() would also accept other scripts' digits.
_ID = re.compile(r"[0-9]{1,20}")  # a uint64 has at most 20 digits, as the edge checks
_EDGE = re.compile(r"[a-z_]{1,64}")


class InvalidId(ValueError):
    """An id is not a Graph numeric id; raised before any HTTP request is built."""


def validate_id(value: str, what: str = "id") -> str:
    """`value` if it is a numeric Graph id, else InvalidId (nothing unvalidated enters a path)."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidId(f"{what} must be a numeric Graph id (digits only), got {value!r}")
    return value


def ad_account_number(value: str) -> str:
    """The numeric ad-account id that `shared_accounts` expects, accepting an `act_` prefix."""
    text = value.removeprefix("act_") if isinstance(value, str) else value
    return validate_id(text, "ad account id")


def validate_edge(value: str) -> str:
    """`value` if it looks like a Graph edge name (lowercase letters and underscores)."""
    if not isinstance(value, str) or not _EDGE.fullmatch(value):
        raise InvalidId(f"edge must be lowercase letters and underscores, got {value!r}")
    return value


def encode_value(value: object) -> str:
    """One parameter value on the wire: lists, dicts and bools JSON-encoded like the SDK."""
    if isinstance(value, list | tuple | dict | bool):
        return json.dumps(value, sort_keys=True, separators=(",", ":"))
    return str(value)


def encode_params(params: Mapping[str, object]) -> dict[str, str]:
    """All parameters on the wire, dropping those that are None."""
    return {name: encode_value(v) for name, v in params.items() if v is not None}


def appsecret_proof(app_secret: SecretStr, token: SecretStr) -> str:
    """Lowercase hex HMAC-SHA256 of the token keyed by the app secret."""
    return hmac.new(
        app_secret.get_secret_value().encode("utf-8"),
        msg=token.get_secret_value().encode("utf-8"),
        digestmod=hashlib.sha256,
    ).hexdigest()
