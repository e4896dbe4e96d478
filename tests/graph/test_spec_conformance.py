"""Every request the client can make, checked against Meta's codegen specs.

Each public method of GraphClient is driven through an httpx.MockTransport; every recorded
request (batch operations and follow-up pages included) must match `tests/specs/graph/*.json`
or an entry of `bot/graph/spec_exceptions.py`, and every entry there must still be needed.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable

import httpx
import pytest

from bot.flows.meta.types import REQUEST_STATUSES, Decision, Task
from bot.graph import BatchOperation, GraphClient
from bot.graph.spec_exceptions import SPEC_EXCEPTIONS

from .conftest import ACCOUNT, AGENCY, APP_SECRET, BIZ, PIXEL, REQUEST, TOKEN, Recorder
from .speccheck import canonical_path, check_http_request, load_enums, spec_call, template_for

IDS = {PIXEL: "pixel", BIZ: "biz", AGENCY: "biz", REQUEST: "request_id"}
EVENT = {"event_name": "PageView", "event_time": 1700000000, "action_source": "website"}

Driver = Callable[[GraphClient], Awaitable[object]]

DRIVERS: dict[str, Driver] = {
    "share_pixel": lambda g: g.share_pixel(TOKEN, PIXEL, AGENCY, ["ANALYZE", "UPLOAD"]),
    "unshare_pixel": lambda g: g.unshare_pixel(TOKEN, PIXEL, AGENCY),
    "list_agencies": lambda g: g.list_agencies(TOKEN, PIXEL),
    "list_shared_accounts": lambda g: g.list_shared_accounts(TOKEN, PIXEL, AGENCY),
    "link_ad_account": lambda g: g.link_ad_account(TOKEN, PIXEL, AGENCY, ACCOUNT),
    "unlink_ad_account": lambda g: g.unlink_ad_account(TOKEN, PIXEL, AGENCY, ACCOUNT),
    "link_ad_accounts": lambda g: g.link_ad_accounts(TOKEN, PIXEL, AGENCY, ["1", "act_2"]),
    "unlink_ad_accounts": lambda g: g.unlink_ad_accounts(TOKEN, PIXEL, AGENCY, ["1"]),
    "get_pixel": lambda g: g.get_pixel(TOKEN, PIXEL),
    "get_business": lambda g: g.get_business(TOKEN, BIZ),
    "list_owned_pixels": lambda g: g.list_owned_pixels(TOKEN, BIZ),
    "list_client_pixels": lambda g: g.list_client_pixels(TOKEN, AGENCY),
    "list_ad_accounts": lambda g: g.list_ad_accounts(TOKEN, BIZ),
    "decide_request": lambda g: g.decide_request(TOKEN, REQUEST, Decision.DECLINE),
    "approve_request": lambda g: g.approve_request(TOKEN, REQUEST),
    "decline_request": lambda g: g.decline_request(TOKEN, REQUEST),
    "get_request": lambda g: g.get_request(TOKEN, REQUEST),
    "get_requests": lambda g: g.get_requests(TOKEN, [REQUEST]),
    "list_received_requests": lambda g: g.list_received_requests(
        TOKEN, AGENCY, request_status="PENDING", requesting_business_id=BIZ
    ),
    "list_initiated_requests": lambda g: g.list_initiated_requests(
        TOKEN, BIZ, receiving_business_id=AGENCY, request_status="PENDING"
    ),
    "send_test_event": lambda g: g.send_test_event(TOKEN, PIXEL, [EVENT], "TEST123"),
    "batch": lambda g: g.batch(
        TOKEN,
        [
            BatchOperation("GET", PIXEL, "agencies", {"fields": "id,name,permitted_tasks"}),
            BatchOperation("GET", PIXEL, None, {"fields": "id,name"}),
            BatchOperation(
                "POST", PIXEL, "agencies", {"business": AGENCY, "permitted_tasks": ["ANALYZE"]}
            ),
            BatchOperation("DELETE", PIXEL, "agencies", {"business": AGENCY}),
        ],
    ),
}
# Lifecycle methods that make no Graph request.
NOT_CALLS = {"aclose"}


def plausible(request: httpx.Request) -> httpx.Response:
    """An answer shaped like Graph's for each call; lists get a second page once."""
    path, params = request.url.path, request.url.params
    if path == "/v25.0/":
        ops = json.loads(dict(httpx.QueryParams(request.content.decode()))["batch"])
        return httpx.Response(200, json=[{"code": 200, "body": '{"success":true}'}] * len(ops))
    if request.method != "GET":
        if path.endswith("/events"):
            return httpx.Response(200, json={"events_received": 1, "messages": []})
        return httpx.Response(200, json={"success": True})
    if path.count("/") == 2:  # a node read: /v25.0/{id}
        return httpx.Response(200, json={"id": path.rsplit("/", 1)[1], "name": "n"})
    item = {"id": "9", "name": "x", "request_status": "PENDING", "permitted_tasks": ["ANALYZE"]}
    body: dict[str, object] = {"data": [item]}
    if "after" not in params:
        # Meta's next links repeat the query (and may carry the token, which we strip).
        body["paging"] = {"next": f"{request.url.copy_merge_params({'after': 'NEXT'})}"}
    return httpx.Response(200, json=body)


@pytest.fixture
async def recorded() -> list[httpx.Request]:
    recorder = Recorder()
    recorder.handler = plausible
    async with GraphClient(app_secret=APP_SECRET, transport=recorder.transport()) as graph:
        for name in sorted(DRIVERS):
            await DRIVERS[name](graph)
    return recorder.requests


def test_every_public_method_is_driven() -> None:
    public = {
        name
        for name, member in inspect.getmembers(GraphClient, inspect.iscoroutinefunction)
        if not name.startswith("_")
    }
    assert public - NOT_CALLS == set(DRIVERS)


async def test_every_request_conforms_to_the_specs(recorded: list[httpx.Request]) -> None:
    problems = [
        f"{r.method} {r.url.path}: {problem}"
        for r in recorded
        for problem in check_http_request(r, IDS)
    ]
    assert problems == []


async def test_calls_covered(recorded: list[httpx.Request]) -> None:
    calls = {(r.method, template_for(r.url.path.removeprefix("/v25.0"), IDS)[0]) for r in recorded}
    assert calls == {
        ("POST", "/{pixel}/agencies"),
        ("DELETE", "/{pixel}/agencies"),
        ("GET", "/{pixel}/agencies"),
        ("GET", "/{pixel}/shared_accounts"),
        ("GET", "/{biz}/owned_ad_accounts"),
        ("GET", "/{biz}/client_ad_accounts"),
        ("POST", "/{pixel}/shared_accounts"),
        ("DELETE", "/{pixel}/shared_accounts"),
        ("GET", "/{pixel}"),
        ("GET", "/{biz}"),
        ("GET", "/{biz}/owned_pixels"),
        ("GET", "/{biz}/client_pixels"),
        ("POST", "/{request_id}"),
        ("GET", "/{request_id}"),
        ("GET", "/{biz}/received_sharing_agreements"),
        ("GET", "/{biz}/initiated_sharing_agreements"),
        ("POST", "/{pixel}/events"),
        ("POST", "/"),
    }


async def test_every_spec_exception_is_used_and_accurate(recorded: list[httpx.Request]) -> None:
    used = {(r.method, template_for(r.url.path.removeprefix("/v25.0"), IDS)[0]) for r in recorded}
    for exception in SPEC_EXCEPTIONS:
        assert (exception.method, exception.path) in used, f"unused exception {exception}"
        assert exception.source and exception.reason
        _, node, edge, _ = canonical_path(exception.path)
        in_spec = spec_call(node, exception.method, edge) is not None
        # An entry claiming the call is absent must really be absent, and vice versa.
        assert in_spec is not exception.absent_from_spec, exception


async def test_paging_follow_ups_are_recorded_and_checked(recorded: list[httpx.Request]) -> None:
    follow_ups = [r for r in recorded if r.url.params.get("after") == "NEXT"]
    assert len(follow_ups) >= 5
    assert all("access_token" not in r.url.params for r in recorded)


def test_client_enums_match_the_spec_enums() -> None:
    enums = load_enums()
    assert {t.value for t in Task} == enums["adspixelagencies_permitted_tasks_enum_param"]
    assert enums["businessagreement_request_status"] == REQUEST_STATUSES
    assert {d.value for d in Decision} <= enums["businessagreement_request_status"]
