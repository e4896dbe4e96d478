"""Every client call: method, path, parameters, encoding, auth header and typed result."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import httpx
import pytest

from bot.flows.meta.types import Decision, ShareStatus, Task
from bot.graph import GraphClient, InvalidId, appsecret_proof

from .conftest import (
    ACCOUNT,
    AGENCY,
    APP_SECRET,
    BIZ,
    PIXEL,
    REQUEST,
    TOKEN,
    Recorder,
    graph_json,
    params_of,
)

PROOF = hmac.new(b"app-secret-xyz", b"EAAB-secret-token-value-123", hashlib.sha256).hexdigest()


def only(recorder: Recorder) -> httpx.Request:
    assert len(recorder.requests) == 1
    return recorder.requests[0]


def test_appsecret_proof_is_hex_hmac_sha256_of_token() -> None:
    assert appsecret_proof(APP_SECRET, TOKEN) == PROOF
    assert PROOF.lower() == PROOF and len(PROOF) == 64


async def test_share_pixel_posts_form_with_json_tasks(
    client: GraphClient, recorder: Recorder
) -> None:
    result = await client.share_pixel(TOKEN, PIXEL, AGENCY, [Task.UPLOAD, "ANALYZE"])

    request = only(recorder)
    assert request.method == "POST"
    assert request.url.path == f"/v25.0/{PIXEL}/agencies"
    assert request.url.query == b""
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == f"Bearer {TOKEN.get_secret_value()}"
    assert params_of(request) == {
        "business": AGENCY,
        "permitted_tasks": '["ANALYZE","UPLOAD"]',
        "appsecret_proof": PROOF,
    }
    assert result.status is ShareStatus.SHARED
    assert result.pending_request_id is None


async def test_share_pixel_pending(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: graph_json({"success": True, "pending_request_id": 987})
    result = await client.share_pixel(TOKEN, PIXEL, AGENCY, ["ANALYZE"])
    assert result.status is ShareStatus.PENDING
    assert result.pending_request_id == "987"


async def test_share_pixel_pending_id_in_error_data(
    client: GraphClient, recorder: Recorder
) -> None:
    error = {"code": 100, "message": "pending", "error_data": '{"pending_request_id":"55"}'}
    recorder.handler = lambda r: graph_json({"error": error}, status=400)
    result = await client.share_pixel(TOKEN, PIXEL, AGENCY, ["ANALYZE"])
    assert (result.status, result.pending_request_id) == (ShareStatus.PENDING, "55")


async def test_unshare_sends_delete_with_query(client: GraphClient, recorder: Recorder) -> None:
    await client.unshare_pixel(TOKEN, PIXEL, AGENCY)
    request = only(recorder)
    assert request.method == "DELETE"
    assert request.url.path == f"/v25.0/{PIXEL}/agencies"
    assert dict(request.url.params) == {"business": AGENCY, "appsecret_proof": PROOF}
    assert request.content == b""


async def test_list_agencies(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: graph_json(
        {"data": [{"id": AGENCY, "name": "Agency", "permitted_tasks": ["ANALYZE", "UPLOAD"]}]}
    )
    agencies = await client.list_agencies(TOKEN, PIXEL)
    request = only(recorder)
    assert (request.method, request.url.path) == ("GET", f"/v25.0/{PIXEL}/agencies")
    assert request.url.params["fields"] == "id,name,permitted_tasks"
    assert agencies[0].id == AGENCY
    assert agencies[0].permitted_tasks == ("ANALYZE", "UPLOAD")


async def test_shared_accounts_calls(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: graph_json(
        {"data": [{"id": f"act_{ACCOUNT}", "account_id": ACCOUNT, "name": "Main"}]}
        if r.method == "GET"
        else {"success": True}
    )
    accounts = await client.list_shared_accounts(TOKEN, PIXEL, BIZ)
    await client.link_ad_account(TOKEN, PIXEL, BIZ, f"act_{ACCOUNT}")
    await client.unlink_ad_account(TOKEN, PIXEL, BIZ, ACCOUNT)

    get, post, delete = recorder.requests
    assert get.url.params["business"] == BIZ
    assert accounts[0].account_id == ACCOUNT
    assert post.method == "POST" and post.url.path == f"/v25.0/{PIXEL}/shared_accounts"
    assert params_of(post) == {"business": BIZ, "account_id": ACCOUNT, "appsecret_proof": PROOF}
    assert delete.method == "DELETE"
    assert dict(delete.url.params) == {
        "business": BIZ,
        "account_id": ACCOUNT,
        "appsecret_proof": PROOF,
    }


async def test_get_pixel(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: graph_json(
        {
            "id": PIXEL,
            "name": "Shop pixel",
            "owner_business": {"id": BIZ, "name": "Shop"},
            "last_fired_time": "2024-01-02T03:04:05+0000",
            "creation_time": "2023-05-06T07:08:09+0000",
            "is_unavailable": False,
        }
    )
    pixel = await client.get_pixel(TOKEN, PIXEL)
    request = only(recorder)
    assert request.url.path == f"/v25.0/{PIXEL}"
    assert request.url.params["fields"] == (
        "id,name,owner_business,last_fired_time,is_unavailable,creation_time"
    )
    assert pixel.owner_business is not None and pixel.owner_business.name == "Shop"
    assert pixel.last_fired_time == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert pixel.is_unavailable is False


async def test_get_unclaimed_pixel(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: graph_json({"id": PIXEL, "name": "New"})
    pixel = await client.get_pixel(TOKEN, PIXEL)
    assert pixel.owner_business is None and pixel.last_fired_time is None


async def test_get_business(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: graph_json({"id": BIZ, "name": "Shop"})
    business = await client.get_business(TOKEN, BIZ)
    assert only(recorder).url.params["fields"] == "id,name"
    assert (business.id, business.name) == (BIZ, "Shop")


@pytest.mark.parametrize("edge", ["owned_pixels", "client_pixels"])
async def test_business_pixels(client: GraphClient, recorder: Recorder, edge: str) -> None:
    recorder.handler = lambda r: graph_json({"data": [{"id": PIXEL, "name": "P"}]})
    method = client.list_owned_pixels if edge == "owned_pixels" else client.list_client_pixels
    pixels = await method(TOKEN, BIZ)
    request = only(recorder)
    assert request.url.path == f"/v25.0/{BIZ}/{edge}"
    assert request.url.params["fields"] == "id,name"
    assert [(p.id, p.name) for p in pixels] == [(PIXEL, "P")]


@pytest.mark.parametrize("decision", [Decision.APPROVE, Decision.DECLINE])
async def test_decide_request(client: GraphClient, recorder: Recorder, decision: Decision) -> None:
    await client.decide_request(TOKEN, REQUEST, decision)
    request = only(recorder)
    assert (request.method, request.url.path) == ("POST", f"/v25.0/{REQUEST}")
    assert params_of(request)["request_status"] == decision.value


async def test_get_request(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: graph_json({"id": REQUEST, "request_status": "PENDING"})
    req = await client.get_request(TOKEN, REQUEST)
    assert only(recorder).url.params["fields"] == "id,request_status"
    assert req.is_pending and not req.is_approved


async def test_sharing_agreement_lists(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: graph_json(
        {"data": [{"id": REQUEST, "request_status": "APPROVE"}]}
    )
    received = await client.list_received_requests(
        TOKEN, AGENCY, request_status="PENDING", requesting_business_id=BIZ
    )
    initiated = await client.list_initiated_requests(TOKEN, BIZ, receiving_business_id=AGENCY)
    first, second = recorder.requests
    assert first.url.path == f"/v25.0/{AGENCY}/received_sharing_agreements"
    assert first.url.params["request_status"] == "PENDING"
    assert first.url.params["requesting_business_id"] == BIZ
    assert second.url.path == f"/v25.0/{BIZ}/initiated_sharing_agreements"
    assert "request_status" not in second.url.params
    assert received[0].is_approved and initiated[0].id == REQUEST


async def test_send_test_event(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: graph_json(
        {"events_received": 1, "messages": [], "fbtrace_id": "TRACE"}
    )
    event = {"event_name": "PageView", "event_time": 1700000000, "action_source": "website"}
    result = await client.send_test_event(TOKEN, PIXEL, [event], "TEST123")
    request = only(recorder)
    assert request.url.path == f"/v25.0/{PIXEL}/events"
    form = params_of(request)
    assert json.loads(form["data"]) == [event]
    assert form["data"] == json.dumps([event], sort_keys=True, separators=(",", ":"))
    assert form["test_event_code"] == "TEST123"
    assert result.events_received == 1 and result.fbtrace_id == "TRACE"


async def test_no_app_secret_means_no_proof(recorder: Recorder) -> None:
    async with GraphClient(transport=recorder.transport()) as graph:
        await graph.unshare_pixel(TOKEN, PIXEL, AGENCY)
    assert "appsecret_proof" not in only(recorder).url.params
    assert str(only(recorder).url).startswith("https://graph.facebook.com/v25.0/")


async def test_base_url_and_version_come_from_the_constructor(recorder: Recorder) -> None:
    async with GraphClient(
        base_url="http://127.0.0.1:8080/graph/", version="v26.0", transport=recorder.transport()
    ) as graph:
        await graph.unshare_pixel(TOKEN, PIXEL, AGENCY)
    url = only(recorder).url
    assert (url.host, url.port, url.path) == ("127.0.0.1", 8080, f"/graph/v26.0/{PIXEL}/agencies")


@pytest.mark.parametrize(
    "bad", ["", "12a", "1/2", "../1", "1?x=2", "١٢٣", " 12", "12 ", "act_12", "1" * 40]
)
async def test_ids_are_validated_before_any_http(
    client: GraphClient, recorder: Recorder, bad: str
) -> None:
    with pytest.raises(InvalidId):
        await client.get_pixel(TOKEN, bad)
    with pytest.raises(ValueError, match="id"):
        await client.share_pixel(TOKEN, PIXEL, bad, ["ANALYZE"])
    with pytest.raises(InvalidId):
        await client.decide_request(TOKEN, bad, Decision.APPROVE)
    assert recorder.requests == []


async def test_tasks_and_statuses_are_validated(client: GraphClient, recorder: Recorder) -> None:
    with pytest.raises(ValueError, match="task"):
        await client.share_pixel(TOKEN, PIXEL, AGENCY, ["MANAGE"])
    with pytest.raises(ValueError, match="task"):
        await client.share_pixel(TOKEN, PIXEL, AGENCY, [])
    with pytest.raises(ValueError, match="request_status"):
        await client.list_received_requests(TOKEN, AGENCY, request_status="pending")
    with pytest.raises(ValueError, match="at least one event"):
        await client.send_test_event(TOKEN, PIXEL, [], "T")
    assert recorder.requests == []


def test_constructor_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="version"):
        GraphClient(version="25.0")
    with pytest.raises(ValueError, match="base_url"):
        GraphClient(base_url="graph.facebook.com")
