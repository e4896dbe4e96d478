"""Meta's semantics for Business edges, sharing requests (BusinessAgreement) and ad accounts."""

from __future__ import annotations

from typing import Any

from bot.graph.sandbox_errors import MetaError, invalid_param, missing_param, permission_denied
from bot.graph.sandbox_fields import page, select
from bot.graph.sandbox_pixels import (
    ACCOUNT_FIELDS,
    PIXEL_FIELDS,
    account_record,
    pixel_record,
)
from bot.graph.sandbox_router import Call, Param, Reply, Route
from bot.graph.sandbox_world import DECISIONS, PENDING, REQUEST_STATUSES, Agreement, World

AGREEMENT_FIELDS = ("id", "request_status")
CLIENT_PIXEL_FIELDS = (*PIXEL_FIELDS, "permitted_tasks")
_STATUS_WORDS = {"APPROVE": "approved", "DECLINE": "declined", "CANCELED": "canceled"}


def _own_business(world: World, call: Call, what: str) -> str:
    if call.business_id != call.target:
        name = world.businesses[call.business_id].name
        raise permission_denied(f"A token of {name} cannot read the {what} of another business.")
    return call.target


def _edge(call: Call, items: list[dict[str, Any]], default: tuple[str, ...], node: str) -> Reply:
    fields = call.params.get("fields")
    return page(call, [select(item, fields, default, node) for item in items])


def get_business(world: World, call: Call) -> Reply:
    """GET /{biz}?fields=id,name"""
    business = world.businesses[call.target]
    record = {"id": business.id, "name": business.name}
    return select(record, call.params.get("fields"), ("id", "name"), "Business")


def get_owned_pixels(world: World, call: Call) -> Reply:
    """GET /{biz}/owned_pixels"""
    business_id = _own_business(world, call, "pixels")
    items = [pixel_record(world, p) for p in world.pixels.values() if p.owner_id == business_id]
    return _edge(call, items, ("id", "name"), "AdsPixel")


def get_client_pixels(world: World, call: Call) -> Reply:
    """GET /{biz}/client_pixels: pixels shared to the business, with its permitted tasks."""
    business_id = _own_business(world, call, "client pixels")
    items = [
        pixel_record(world, p) | {"permitted_tasks": list(p.agencies[business_id])}
        for p in world.pixels.values()
        if business_id in p.agencies
    ]
    return _edge(call, items, ("id", "name", "permitted_tasks"), "AdsPixel")


def get_owned_ad_accounts(world: World, call: Call) -> Reply:
    """GET /{biz}/owned_ad_accounts"""
    business_id = _own_business(world, call, "ad accounts")
    accounts = [a for a in world.ad_accounts.values() if a.owner_id == business_id]
    return _edge(call, [account_record(a) for a in accounts], ACCOUNT_FIELDS, "AdAccount")


def get_client_ad_accounts(world: World, call: Call) -> Reply:
    """GET /{biz}/client_ad_accounts: other businesses' ad accounts this one may use."""
    business_id = _own_business(world, call, "ad accounts")
    accounts = [a for a in world.ad_accounts.values() if business_id in a.users]
    return _edge(call, [account_record(a) for a in accounts], ACCOUNT_FIELDS, "AdAccount")


def _agreements(call: Call, keep: list[Agreement]) -> Reply:
    status = call.params.get("request_status")
    items = [
        {"id": a.id, "request_status": a.status}
        for a in keep
        if status is None or a.status == status
    ]
    return _edge(call, items, AGREEMENT_FIELDS, "BusinessAgreement")


def get_received(world: World, call: Call) -> Reply:
    """GET /{biz}/received_sharing_agreements?request_status=&requesting_business_id="""
    business_id = _own_business(world, call, "sharing agreements")
    sender = call.params.get("requesting_business_id")
    keep = [
        a
        for a in world.agreements.values()
        if a.recipient_id == business_id and sender in (None, a.requester_id)
    ]
    return _agreements(call, keep)


def get_initiated(world: World, call: Call) -> Reply:
    """GET /{biz}/initiated_sharing_agreements?receiving_business_id=&request_status="""
    business_id = _own_business(world, call, "sharing agreements")
    receiver = call.params.get("receiving_business_id")
    keep = [
        a
        for a in world.agreements.values()
        if a.requester_id == business_id and receiver in (None, a.recipient_id)
    ]
    return _agreements(call, keep)


def get_request(world: World, call: Call) -> Reply:
    """GET /{request_id}?fields=id,request_status"""
    agreement = world.agreements[call.target]
    record = {"id": agreement.id, "request_status": agreement.status}
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


def get_ad_account(world: World, call: Call) -> Reply:
    """GET /act_{ad_account}?fields=id,account_id,name"""
    record = account_record(world.ad_accounts[call.target])
    return select(record, call.params.get("fields"), ("id", "account_id"), "AdAccount")


_STATUS = Param("request_status", enum=REQUEST_STATUSES)

ROUTES: tuple[Route, ...] = (
    Route("GET", "business", None, get_business, fields=("id", "name")),
    Route("GET", "business", "owned_pixels", get_owned_pixels, fields=PIXEL_FIELDS),
    Route("GET", "business", "client_pixels", get_client_pixels, fields=CLIENT_PIXEL_FIELDS),
    Route("GET", "business", "owned_ad_accounts", get_owned_ad_accounts, fields=ACCOUNT_FIELDS),
    Route("GET", "business", "client_ad_accounts", get_client_ad_accounts, fields=ACCOUNT_FIELDS),
    Route(
        "GET",
        "business",
        "received_sharing_agreements",
        get_received,
        (_STATUS, Param("requesting_business_id")),
        AGREEMENT_FIELDS,
    ),
    Route(
        "GET",
        "business",
        "initiated_sharing_agreements",
        get_initiated,
        (Param("receiving_business_id"), _STATUS),
        AGREEMENT_FIELDS,
    ),
    Route("GET", "request", None, get_request, fields=AGREEMENT_FIELDS),
    Route("POST", "request", None, decide_request, (Param("asset_id"), _STATUS)),
    Route("GET", "ad_account", None, get_ad_account, fields=ACCOUNT_FIELDS),
)
