"""Meta's semantics for the Business node and its edges: its pixels, ad accounts and requests."""

from __future__ import annotations

from typing import Any

from bot.sandbox.errors import permission_denied
from bot.sandbox.fields import page, select
from bot.sandbox.router import Call, Param, Reply, Route
from bot.sandbox.routes.accounts import ACCOUNT_FIELDS, account_record
from bot.sandbox.routes.pixels import PIXEL_FIELDS, pixel_record
from bot.sandbox.routes.requests import AGREEMENT_FIELDS, STATUS_PARAM, agreement_record
from bot.sandbox.world import Agreement, World

CLIENT_PIXEL_FIELDS = (*PIXEL_FIELDS, "permitted_tasks")


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
    items = [agreement_record(a) for a in keep if status is None or a.status == status]
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
        (STATUS_PARAM, Param("requesting_business_id")),
        AGREEMENT_FIELDS,
    ),
    Route(
        "GET",
        "business",
        "initiated_sharing_agreements",
        get_initiated,
        (Param("receiving_business_id"), STATUS_PARAM),
        AGREEMENT_FIELDS,
    ),
)
