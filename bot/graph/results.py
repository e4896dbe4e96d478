"""Meta's JSON read, once at the edge, into the port's types (`bot.flows.meta.types`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.flows.meta.types import (
    AdAccount,
    Agency,
    Business,
    Pixel,
    PixelSummary,
    ShareResult,
    ShareStatus,
    SharingRequest,
)

logger = logging.getLogger(__name__)


def _str(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None or isinstance(value, dict | list) else str(value)


def _strs(value: object) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def parse_time(value: object) -> datetime | None:
    """A Graph datetime (`2024-01-02T03:04:05+0000`, ISO-8601 or epoch seconds), else None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=UTC)
    if not isinstance(value, str) or not value:
        return None
    for parse in (
        lambda v: datetime.strptime(v, "%Y-%m-%dT%H:%M:%S%z"),
        datetime.fromisoformat,
    ):
        try:
            parsed = parse(value)
        except ValueError:
            continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    logger.debug("unreadable Graph datetime %r", value)
    return None


def share_result(body: Mapping[str, Any]) -> ShareResult:
    """Parse `{"success": true[, "pending_request_id": "..."]}`."""
    pending = _str(body, "pending_request_id")
    if pending:
        return ShareResult(ShareStatus.PENDING, pending)
    return ShareResult(ShareStatus.SHARED)


def agency(data: Mapping[str, Any]) -> Agency:
    """Parse one item of `GET /{pixel}/agencies`."""
    return Agency(_str(data, "id"), _str(data, "name"), _strs(data.get("permitted_tasks")))


def ad_account(data: Mapping[str, Any]) -> AdAccount:
    """Parse one item of `GET /{pixel}/shared_accounts`."""
    ident = _str(data, "id")
    number = _str(data, "account_id") or ident.removeprefix("act_")
    return AdAccount(ident, number, _str(data, "name"))


def business(data: Mapping[str, Any]) -> Business:
    """Parse `GET /{business}?fields=id,name`."""
    return Business(_str(data, "id"), _str(data, "name"))


def pixel_summary(data: Mapping[str, Any]) -> PixelSummary:
    """Parse one item of `owned_pixels` / `client_pixels`."""
    return PixelSummary(_str(data, "id"), _str(data, "name"))


def pixel(data: Mapping[str, Any]) -> Pixel:
    """Parse `GET /{pixel}`."""
    owner = data.get("owner_business")
    return Pixel(
        id=_str(data, "id"),
        name=_str(data, "name"),
        owner_business=business(owner) if isinstance(owner, dict) else None,
        last_fired_time=parse_time(data.get("last_fired_time")),
        creation_time=parse_time(data.get("creation_time")),
        is_unavailable=data.get("is_unavailable") is True,
    )


def sharing_request(data: Mapping[str, Any]) -> SharingRequest:
    """Parse a BusinessAgreement (`id`, `request_status`)."""
    return SharingRequest(_str(data, "id"), _str(data, "request_status"))


@dataclass(frozen=True, slots=True)
class TestEventResult:
    """What Meta said about a test event: how many it received, and any messages."""

    __test__ = False  # not a pytest test class, despite the name

    events_received: int
    messages: tuple[str, ...]
    fbtrace_id: str | None


def test_event_result(data: Mapping[str, Any]) -> TestEventResult:
    """Parse `{events_received, messages, fbtrace_id}` (a result only the transport has)."""
    received = data.get("events_received")
    return TestEventResult(
        events_received=received if isinstance(received, int) else 0,
        messages=_strs(data.get("messages")),
        fbtrace_id=_str(data, "fbtrace_id") or None,
    )
