"""What the use-cases hand back: plain snapshots and the errors that carry one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.errors import Conflict, PixelbotError
from bot.flows.meta.errors import GraphError
from bot.store.models import ShareRequest


@dataclass(frozen=True)
class RequestView:
    """A share request as it stood when read; safe to render anywhere."""

    id: int
    pixel_id: str
    pixel_name: str | None
    owner_business_id: str
    owner_name: str | None
    agency_business_id: str
    agency_name: str | None
    tasks: tuple[str, ...]
    status: str
    pending_request_id: str | None
    requester: str
    note: str | None
    decider: str | None
    reason: str | None
    created_at: datetime
    decided_at: datetime | None
    slack_channel: str | None
    slack_ts: str | None
    error_message: str | None
    error_code: int | None
    fbtrace_id: str | None
    attention: str | None = None

    @classmethod
    def of(cls, row: ShareRequest) -> RequestView:
        """Snapshot a row."""
        return cls(
            id=row.id,
            pixel_id=row.pixel_id,
            pixel_name=row.pixel_name,
            owner_business_id=row.owner_business_id,
            owner_name=row.owner_name,
            agency_business_id=row.agency_business_id,
            agency_name=row.agency_name,
            tasks=tuple(row.permitted_tasks),
            status=row.status,
            pending_request_id=row.pending_request_id,
            requester=row.requester_slack_id,
            note=row.note,
            decider=row.decider_slack_id,
            reason=row.decision_reason,
            created_at=row.created_at,
            decided_at=row.decided_at,
            slack_channel=row.slack_channel,
            slack_ts=row.slack_ts,
            error_message=row.graph_error_message,
            error_code=row.graph_error_code,
            fbtrace_id=row.graph_fbtrace_id,
            attention=row.attention,
        )


class MetaFailed(PixelbotError):
    """Meta refused or failed a call made for `business_name`; nothing else was changed.

    `uncertain` means Meta may have applied it and did not say (no answer, or one without
    the outcome: `error` says which): the request stays claimed so that crash recovery
    checks it with Meta rather than repeat it (an unshare's rows go back as they were when
    Meta shows the access still there).
    """

    def __init__(
        self,
        error: GraphError,
        business_id: str,
        business_name: str,
        request: RequestView | None = None,
        *,
        uncertain: bool = False,
    ) -> None:
        super().__init__(error.user_message)
        self.error = error
        self.business_id = business_id
        self.business_name = business_name
        self.request = request
        self.uncertain = uncertain


class AlreadyOpen(Conflict):
    """A new share would duplicate an open request for the same pixel and agency."""

    def __init__(self, pixel_id: str, agency_id: str, request_id: int, status: str) -> None:
        super().__init__(
            f"pixel {pixel_id} already has request #{request_id} to business {agency_id} ({status})"
        )
        self.pixel_id = pixel_id
        self.agency_id = agency_id
        self.request_id = request_id
        self.status = status


class AlreadySettled(Conflict):
    """Someone (another click, another admin, Meta) moved the request first."""

    def __init__(self, request: RequestView, *, found_at_meta: bool = False) -> None:
        super().__init__(f"request #{request.id} is already {request.status}")
        self.request = request
        # Settled in Meta and only now noticed: its message may still show buttons.
        self.found_at_meta = found_at_meta
