"""The values the port's calls return: plain data, read from Meta's JSON by `bot.graph`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.flows.meta.errors import GraphError


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


@dataclass(frozen=True, slots=True)
class ShareResult:
    """Shared at once, or waiting for the agency to accept `pending_request_id`."""

    status: ShareStatus
    pending_request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Agency:
    """A business a pixel is shared with, and the tasks it may perform."""

    id: str
    name: str
    permitted_tasks: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AdAccount:
    """An ad account linked to a pixel; `account_id` is the number without `act_`."""

    id: str
    account_id: str
    name: str


@dataclass(frozen=True, slots=True)
class Business:
    """A business: id and name."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class PixelSummary:
    """A pixel in a picker list: id and name."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Pixel:
    """A pixel's details; `owner_business` is None while no business has claimed it."""

    id: str
    name: str
    owner_business: Business | None
    last_fired_time: datetime | None
    creation_time: datetime | None
    is_unavailable: bool


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


@dataclass(frozen=True, slots=True)
class LinkResult:
    """Outcome of linking (or unlinking) one ad account; `error` is None on success."""

    account_id: str
    error: GraphError | None = None

    @property
    def ok(self) -> bool:
        """The operation succeeded."""
        return self.error is None
