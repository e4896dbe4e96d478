"""Typed results of Graph calls, parsed once at the edge from Meta's JSON."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bot.graph.errors import GraphError

logger = logging.getLogger(__name__)


class Task(StrEnum):
    """Permitted tasks on a shared pixel (AdsPixel.json `adspixelagencies_permitted_tasks`)."""

    ADVERTISE = "ADVERTISE"
    ANALYZE = "ANALYZE"
    EDIT = "EDIT"  # allowlist-only at Meta: expect a permission error without it
    UPLOAD = "UPLOAD"


class Decision(StrEnum):
    """The two values a sharing request can be set to (BusinessAgreement `request_status`)."""

    APPROVE = "APPROVE"
    DECLINE = "DECLINE"


class ShareStatus(StrEnum):
    """Outcome of sharing a pixel with a business."""

    SHARED = "shared"
    PENDING = "pending"


# graph-api.md §1.4: everything else that is not APPROVE is final.
PENDING_STATUSES = frozenset(
    {
        "PENDING",
        "IN_PROGRESS",
        "PENDING_EMAIL_VERIFICATION",
        "PENDING_INTEGRITY_REVIEW",
        "MMA_DIRECT_ASSETS_PENDING",
    }
)
APPROVED_STATUSES = frozenset({"APPROVE", "MMA_DIRECT_ASSETS_APPROVED"})
# Every value of the spec enum `businessagreement_request_status` (for list filters).
REQUEST_STATUSES = (
    PENDING_STATUSES
    | APPROVED_STATUSES
    | frozenset(
        {
            "CANCELED",
            "DECLINE",
            "EXPIRED",
            "MMA_DIRECT_ASSETS_DECLINED",
            "MMA_DIRECT_ASSETS_EXPIRED",
        }
    )
)


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


@dataclass(frozen=True, slots=True)
class ShareResult:
    """Shared at once, or waiting for the agency to accept `pending_request_id`."""

    status: ShareStatus
    pending_request_id: str | None = None

    @classmethod
    def from_graph(cls, body: Mapping[str, Any]) -> ShareResult:
        """Parse `{"success": true[, "pending_request_id": "..."]}`."""
        pending = _str(body, "pending_request_id")
        if pending:
            return cls(ShareStatus.PENDING, pending)
        return cls(ShareStatus.SHARED)


@dataclass(frozen=True, slots=True)
class Agency:
    """A business a pixel is shared with, and the tasks it may perform."""

    id: str
    name: str
    permitted_tasks: tuple[str, ...]

    @classmethod
    def from_graph(cls, data: Mapping[str, Any]) -> Agency:
        """Parse one item of `GET /{pixel}/agencies`."""
        return cls(_str(data, "id"), _str(data, "name"), _strs(data.get("permitted_tasks")))


@dataclass(frozen=True, slots=True)
class AdAccount:
    """An ad account linked to a pixel; `account_id` is the number without `act_`."""

    id: str
    account_id: str
    name: str

    @classmethod
    def from_graph(cls, data: Mapping[str, Any]) -> AdAccount:
        """Parse one item of `GET /{pixel}/shared_accounts`."""
        ident = _str(data, "id")
        number = _str(data, "account_id") or ident.removeprefix("act_")
        return cls(ident, number, _str(data, "name"))


@dataclass(frozen=True, slots=True)
class Business:
    """A business: id and name."""

    id: str
    name: str

    @classmethod
    def from_graph(cls, data: Mapping[str, Any]) -> Business:
        """Parse `GET /{business}?fields=id,name`."""
        return cls(_str(data, "id"), _str(data, "name"))


@dataclass(frozen=True, slots=True)
class PixelSummary:
    """A pixel in a picker list: id and name."""

    id: str
    name: str

    @classmethod
    def from_graph(cls, data: Mapping[str, Any]) -> PixelSummary:
        """Parse one item of `owned_pixels` / `client_pixels`."""
        return cls(_str(data, "id"), _str(data, "name"))


@dataclass(frozen=True, slots=True)
class Pixel:
    """A pixel's details; `owner_business` is None while no business has claimed it."""

    id: str
    name: str
    owner_business: Business | None
    last_fired_time: datetime | None
    creation_time: datetime | None
    is_unavailable: bool

    @classmethod
    def from_graph(cls, data: Mapping[str, Any]) -> Pixel:
        """Parse `GET /{pixel}`."""
        owner = data.get("owner_business")
        return cls(
            id=_str(data, "id"),
            name=_str(data, "name"),
            owner_business=Business.from_graph(owner) if isinstance(owner, dict) else None,
            last_fired_time=parse_time(data.get("last_fired_time")),
            creation_time=parse_time(data.get("creation_time")),
            is_unavailable=data.get("is_unavailable") is True,
        )


@dataclass(frozen=True, slots=True)
class SharingRequest:
    """A sharing request (BusinessAgreement) and its status as Meta reports it."""

    id: str
    request_status: str

    @property
    def is_pending(self) -> bool:
        """Still waiting for a decision."""
        return self.request_status.upper() in PENDING_STATUSES

    @property
    def is_approved(self) -> bool:
        """Accepted by the recipient business."""
        return self.request_status.upper() in APPROVED_STATUSES

    @classmethod
    def from_graph(cls, data: Mapping[str, Any]) -> SharingRequest:
        """Parse a BusinessAgreement (`id`, `request_status`)."""
        return cls(_str(data, "id"), _str(data, "request_status"))


@dataclass(frozen=True, slots=True)
class TestEventResult:
    """What Meta said about a test event: how many it received, and any messages."""

    __test__ = False  # not a pytest test class, despite the name

    events_received: int
    messages: tuple[str, ...]
    fbtrace_id: str | None

    @classmethod
    def from_graph(cls, data: Mapping[str, Any]) -> TestEventResult:
        """Parse `{events_received, messages, fbtrace_id}`."""
        received = data.get("events_received")
        return cls(
            events_received=received if isinstance(received, int) else 0,
            messages=_strs(data.get("messages")),
            fbtrace_id=_str(data, "fbtrace_id") or None,
        )


@dataclass(frozen=True, slots=True)
class BatchResult:
    """A successful batch item: its HTTP code and its body, parsed."""

    status: int
    body: Mapping[str, Any] = field(hash=False)


@dataclass(frozen=True, slots=True)
class LinkResult:
    """Outcome of linking (or unlinking) one ad account; `error` is None on success."""

    account_id: str
    error: GraphError | None = None

    @property
    def ok(self) -> bool:
        """The operation succeeded."""
        return self.error is None
