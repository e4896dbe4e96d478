"""Meta's semantics for the BusinessAgreement node: a sharing request, read and decided."""

from __future__ import annotations

from typing import Any

from bot.sandbox.errors import (
    MetaError,
    invalid_param,
    missing_param,
    permission_denied,
    unsupported,
)
from bot.sandbox.fields import select
from bot.sandbox.router import Call, Param, Reply, Route
from bot.sandbox.world import DECISIONS, PENDING, REQUEST_STATUSES, Agreement, World

AGREEMENT_FIELDS = ("id", "request_status")
# The request_status filter of the Business edges that list requests, and the decision.
STATUS_PARAM = Param("request_status", enum=REQUEST_STATUSES)
_STATUS_WORDS = {"APPROVE": "approved", "DECLINE": "declined", "CANCELED": "canceled"}


def agreement_record(agreement: Agreement) -> dict[str, Any]:
    """The simulated BusinessAgreement fields."""
    return {"id": agreement.id, "request_status": agreement.status}


def get_request(world: World, call: Call) -> Reply:
    """GET /{request_id}?fields=id,request_status (variant `requester_cannot_read`: only
    the receiving business sees it)."""
    agreement = world.agreements[call.target]
    hidden = "requester_cannot_read" in world.settings.variants
    if hidden and call.business_id != agreement.recipient_id:
        raise unsupported("GET", agreement.id)
    record = agreement_record(agreement)
    return select(record, call.params.get("fields"), AGREEMENT_FIELDS, "BusinessAgreement")


def decide_request(world: World, call: Call) -> Reply:
    """POST /{request_id} request_status=APPROVE|DECLINE, by the receiving business only."""
    agreement = world.agreements[call.target]
    status = call.params.get("request_status")
    if status is None:
        raise missing_param("request_status")
    if status not in DECISIONS:
        raise invalid_param(f"Param request_status must be APPROVE or DECLINE, got {status}")
    if call.business_id != agreement.recipient_id:
        name = world.businesses[agreement.recipient_id].name
        raise permission_denied(
            f"Only the business that received this request ({name}) can decide it."
        )
    asset_id = call.params.get("asset_id")
    if asset_id is not None and asset_id not in agreement.assets:
        raise invalid_param(f"Param asset_id {asset_id} is not part of request {agreement.id}")
    if agreement.status != PENDING:
        word = _STATUS_WORDS.get(agreement.status, agreement.status.lower())
        raise MetaError(
            100,
            f"(#100) This request was already {word} and cannot be changed",
            user_title=f"Request already {word}",
            user_msg=f"The sharing request {agreement.id} was already {word}. "
            "Send a new sharing request if access is still needed.",
        )
    world.decide(agreement.id, status)
    return {"success": True}


ROUTES: tuple[Route, ...] = (
    Route("GET", "request", None, get_request, fields=AGREEMENT_FIELDS),
    Route("POST", "request", None, decide_request, (Param("asset_id"), STATUS_PARAM)),
)
