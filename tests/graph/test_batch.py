"""Batch requests: chunks of 50, per-item results and errors, null items, progress."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bot.flows.meta.errors import (
    GraphAuthError,
    GraphError,
    GraphInvalidParameter,
    GraphPermissionError,
    GraphRateLimited,
    GraphTimeout,
)
from bot.graph import BatchOperation, BatchResult, GraphClient, InvalidId, appsecret_proof

from .conftest import (
    ACCOUNT,
    APP_SECRET,
    BIZ,
    PIXEL,
    TOKEN,
    FakeClock,
    Recorder,
    batch_ops,
    params_of,
)

OK_ITEM = {"code": 200, "body": '{"success":true}'}


def echo_ok(request: httpx.Request) -> httpx.Response:
    """Every operation succeeds."""
    return httpx.Response(200, json=[OK_ITEM] * len(batch_ops(request)))


def link_ops(count: int) -> list[BatchOperation]:
    return [
        BatchOperation(
            "POST", PIXEL, "shared_accounts", {"business": BIZ, "account_id": str(1000 + i)}
        )
        for i in range(count)
    ]


async def test_batch_request_shape(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: httpx.Response(
        200, json=[OK_ITEM, {"code": 200, "body": '{"data":[]}'}]
    )
    ops = [
        link_ops(1)[0],
        BatchOperation("GET", PIXEL, "agencies", {"fields": "id,name"}),
    ]
    results = await client.batch(TOKEN, ops)

    (request,) = recorder.requests
    assert (request.method, str(request.url)) == ("POST", "https://graph.facebook.com/v25.0/")
    form = params_of(request)
    assert form["include_headers"] == "false"
    assert form["appsecret_proof"] == appsecret_proof(APP_SECRET, TOKEN)
    assert "access_token" not in form
    assert request.headers["authorization"] == f"Bearer {TOKEN.get_secret_value()}"
    assert json.loads(form["batch"]) == [
        {
            "method": "POST",
            "relative_url": f"{PIXEL}/shared_accounts",
            "body": f"account_id=1000&business={BIZ}",
        },
        {"method": "GET", "relative_url": f"{PIXEL}/agencies?fields=id%2Cname"},
    ]
    assert results == [BatchResult(200, {"success": True}), BatchResult(200, {"data": []})]


async def test_120_operations_make_3_calls_in_order_with_progress(
    client: GraphClient, recorder: Recorder
) -> None:
    recorder.handler = echo_ok
    progress: list[tuple[int, int]] = []

    async def on_chunk(done: int, total: int) -> None:
        progress.append((done, total))

    results = await client.batch(TOKEN, link_ops(120), on_chunk=on_chunk)

    sizes = [len(batch_ops(r)) for r in recorder.requests]
    assert sizes == [50, 50, 20]
    sent = [json.loads(json.dumps(op)) for r in recorder.requests for op in batch_ops(r)]
    assert [op["body"].split("&")[0] for op in sent] == [
        f"account_id={1000 + i}" for i in range(120)
    ]
    assert len(results) == 120 and all(isinstance(r, BatchResult) for r in results)
    assert progress == [(50, 120), (100, 120), (120, 120)]


async def test_item_errors_map_to_the_same_exceptions(
    client: GraphClient, recorder: Recorder
) -> None:
    def error_item(code: int, status: int = 400) -> dict[str, Any]:
        body = {"error": {"code": code, "message": f"e{code}", "fbtrace_id": f"T{code}"}}
        return {"code": status, "body": json.dumps(body)}

    recorder.handler = lambda r: httpx.Response(
        200,
        json=[
            OK_ITEM,
            error_item(100),
            error_item(200, 403),
            error_item(80004),
            {"code": 200, "body": '{"success":false}'},
            {"code": 500, "body": "not json"},
        ],
    )
    results = await client.batch(TOKEN, link_ops(6))
    kinds = [type(r) for r in results]
    assert kinds[:4] == [BatchResult, GraphInvalidParameter, GraphPermissionError, GraphRateLimited]
    assert isinstance(results[4], GraphError) and isinstance(results[5], GraphError)
    assert isinstance(results[1], GraphError) and results[1].fbtrace_id == "T100"
    assert results[2].http_status == 403  # type: ignore[union-attr]


async def test_null_items_are_resent_only_when_safe(
    client: GraphClient, recorder: Recorder, clock: FakeClock
) -> None:
    answers = iter(
        [
            [None, OK_ITEM, None],  # GET and the safe POST time out; the plain POST succeeds
            [OK_ITEM, None],  # second round: the GET succeeds, the safe POST times out again
            [OK_ITEM],  # third round
        ]
    )
    recorder.handler = lambda r: httpx.Response(200, json=next(answers))
    ops = [
        BatchOperation("GET", PIXEL, "agencies"),
        link_ops(1)[0],
        BatchOperation(
            "DELETE", PIXEL, "shared_accounts", {"business": BIZ, "account_id": ACCOUNT}, True
        ),
    ]
    results = await client.batch(TOKEN, ops)
    assert [len(batch_ops(r)) for r in recorder.requests] == [3, 2, 1]
    assert all(isinstance(r, BatchResult) for r in results)
    assert len(clock.sleeps) == 2


async def test_null_unsafe_items_become_timeouts(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: httpx.Response(200, json=[None, OK_ITEM])
    results = await client.batch(TOKEN, link_ops(2))
    assert isinstance(results[0], GraphTimeout) and isinstance(results[1], BatchResult)
    assert len(recorder.requests) == 1


async def test_null_retries_are_bounded(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: httpx.Response(200, json=[None])
    results = await client.batch(TOKEN, [BatchOperation("GET", PIXEL, "agencies")])
    assert isinstance(results[0], GraphTimeout)
    assert len(recorder.requests) == 3  # first try + 2 rounds (RetryPolicy.batch_null_rounds)


async def test_chunk_timeout_fails_its_items_and_goes_on(
    client: GraphClient, recorder: Recorder
) -> None:
    calls = iter([httpx.ReadTimeout("slow"), None])

    def handler(request: httpx.Request) -> httpx.Response:
        failure = next(calls)
        if failure is not None:
            raise failure
        return echo_ok(request)

    recorder.handler = handler
    results = await client.batch(TOKEN, link_ops(60))
    assert len(recorder.requests) == 2  # the timed-out chunk is not sent again
    assert all(isinstance(r, GraphTimeout) for r in results[:50])
    assert all(isinstance(r, BatchResult) for r in results[50:])


async def test_chunk_rejection_fails_the_rest(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: httpx.Response(
        400, json={"error": {"code": 190, "message": "expired"}}
    )
    results = await client.batch(TOKEN, link_ops(120))
    assert len(recorder.requests) == 1
    assert len(results) == 120 and all(isinstance(r, GraphAuthError) for r in results)


async def test_malformed_batch_answer(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: httpx.Response(200, json=[OK_ITEM])
    results = await client.batch(TOKEN, link_ops(2))
    assert all(isinstance(r, GraphTimeout) for r in results)


async def test_link_ad_accounts(client: GraphClient, recorder: Recorder) -> None:
    error = {"code": 200, "message": "no access to both pixel and ad account"}
    recorder.handler = lambda r: httpx.Response(
        200, json=[OK_ITEM, {"code": 403, "body": json.dumps({"error": error})}]
    )
    results = await client.link_ad_accounts(TOKEN, PIXEL, BIZ, ["act_11", "22"])
    assert [(r.account_id, r.ok) for r in results] == [("11", True), ("22", False)]
    assert isinstance(results[1].error, GraphPermissionError)
    ops = batch_ops(recorder.requests[0])
    assert [op["method"] for op in ops] == ["POST", "POST"]
    assert ops[0]["body"] == f"account_id=11&business={BIZ}"


async def test_unlink_ad_accounts(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = echo_ok
    results = await client.unlink_ad_accounts(TOKEN, PIXEL, BIZ, [ACCOUNT])
    assert results[0].ok
    (op,) = batch_ops(recorder.requests[0])
    assert op == {
        "method": "DELETE",
        "relative_url": f"{PIXEL}/shared_accounts?account_id={ACCOUNT}&business={BIZ}",
    }


@pytest.mark.parametrize(
    ("method", "node", "edge"),
    [("PUT", PIXEL, None), ("GET", "1/2", None), ("GET", PIXEL, "../x"), ("GET", PIXEL, "A")],
)
def test_operations_are_validated(method: str, node: str, edge: str | None) -> None:
    with pytest.raises(ValueError, match=r"method|id|edge"):
        BatchOperation(method, node, edge)


async def test_bad_account_ids_fail_before_http(client: GraphClient, recorder: Recorder) -> None:
    with pytest.raises(InvalidId):
        await client.link_ad_accounts(TOKEN, PIXEL, BIZ, ["act_1", "act_x"])
    assert recorder.requests == []


async def test_high_usage_spaces_the_chunks(
    client: GraphClient, recorder: Recorder, clock: FakeClock
) -> None:
    usage = {"X-App-Usage": '{"call_count":90,"total_time":10,"total_cputime":10}'}
    recorder.handler = lambda r: httpx.Response(
        200, json=[OK_ITEM] * len(batch_ops(r)), headers=usage
    )
    await client.batch(TOKEN, link_ops(51))
    assert len(recorder.requests) == 2
    assert clock.sleeps == [pytest.approx(30.0)]  # 90% is halfway from 80% to 100%: 30 of 60s
