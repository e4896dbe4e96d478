"""Batch requests: each operation runs through the same routes, faults and budget."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.sandbox import Sandbox
from tests.sandbox.support import (
    ACME,
    BRIGHT,
    NOVA,
    PIXEL_CHECKOUT,
    PIXEL_WEB,
    V,
    auth,
    error_of,
    tasks,
)


def share_op(pixel: str, business: str) -> dict[str, str]:
    body = urlencode({"business": business, "permitted_tasks": tasks("ANALYZE")})
    return {"method": "POST", "relative_url": f"{pixel}/agencies", "body": body}


async def batch(
    client: httpx.AsyncClient, sandbox: Sandbox, ops: list[Any], path: str = f"{V}/", **extra: str
) -> httpx.Response:
    data = {"batch": json.dumps(ops), **extra}
    return await client.post(path, data=data, headers=auth(sandbox, ACME))


async def test_operations_run_in_order(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    ops = [
        share_op(PIXEL_CHECKOUT, BRIGHT),
        {"method": "GET", "relative_url": f"v25.0/{PIXEL_CHECKOUT}/agencies?fields=id"},
        {"method": "GET", "relative_url": "/999999999999999"},
        share_op(PIXEL_CHECKOUT, NOVA),
    ]

    response = await batch(client, sandbox, ops)

    items = response.json()
    assert response.status_code == 200
    assert [item["code"] for item in items] == [200, 200, 400, 200]
    bodies = [json.loads(item["body"]) for item in items]
    assert bodies[0] == {"success": True}
    assert bodies[1]["data"] == [{"id": BRIGHT}]
    assert bodies[2]["error"]["error_subcode"] == 33
    assert "pending_request_id" in bodies[3]
    headers = {h["name"].lower(): h["value"] for h in items[0]["headers"]}
    assert {"x-app-usage", "x-business-use-case-usage"} <= set(headers)
    assert [c.in_batch for c in sandbox.calls] == [False, True, True, True, True]


async def test_batch_without_version_and_without_headers(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    ops = [{"method": "GET", "relative_url": PIXEL_WEB}]

    response = await batch(client, sandbox, ops, path="/", include_headers="false")

    assert response.json() == [
        {
            "code": 200,
            "body": json.dumps(
                {"id": PIXEL_WEB, "name": "Acme Shoes - Website"}, separators=(",", ":")
            ),
        }
    ]


async def test_more_than_50_operations_are_refused(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    ops = [{"method": "GET", "relative_url": PIXEL_WEB}] * 51

    response = await batch(client, sandbox, ops)

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["message"]) == (
        100,
        "Too many requests in batch message. Maximum batch size is 50",
    )
    assert len(sandbox.calls) == 1


async def test_fifty_operations_are_fine(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await batch(client, sandbox, [{"method": "GET", "relative_url": PIXEL_WEB}] * 50)

    assert len(response.json()) == 50


async def test_null_items_by_fault(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.null_in_batch(times=1, path=r"/agencies$")
    ops = [
        {"method": "GET", "relative_url": PIXEL_WEB},
        share_op(PIXEL_CHECKOUT, BRIGHT),
        share_op(PIXEL_CHECKOUT, BRIGHT),
    ]

    items = (await batch(client, sandbox, ops)).json()

    assert items[0]["code"] == 200
    assert items[1] is None
    assert items[2]["code"] == 200


async def test_operation_faults_and_per_operation_tokens(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.faults.rate_limit(times=1, path=rf"^/{PIXEL_WEB}$")
    nova = sandbox.world.token_for(NOVA)
    ops = [
        {"method": "GET", "relative_url": PIXEL_WEB},
        {"method": "GET", "relative_url": f"{NOVA}?access_token={nova}"},
    ]

    items = (await batch(client, sandbox, ops)).json()

    assert json.loads(items[0]["body"])["error"]["code"] == 80004
    assert json.loads(items[1]["body"]) == {"id": NOVA, "name": "Nova Media"}
    assert sandbox.calls[-1].business_id == NOVA
    assert all(nova not in json.dumps(c.params) for c in sandbox.calls)


async def test_the_top_level_token_is_required(client: httpx.AsyncClient) -> None:
    response = await client.post(
        f"{V}/", data={"batch": json.dumps([{"method": "GET", "relative_url": PIXEL_WEB}])}
    )

    assert error_of(response)["code"] == 104


async def test_the_top_level_appsecret_proof_covers_the_batch(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.world.settings.app_secret = "sandbox-app-secret"
    token = sandbox.world.token_for(ACME)
    proof = hmac.new(b"sandbox-app-secret", token.encode(), hashlib.sha256).hexdigest()
    ops = [{"method": "GET", "relative_url": PIXEL_WEB}]

    without = await batch(client, sandbox, ops)
    with_proof = await batch(client, sandbox, ops, appsecret_proof=proof)

    assert error_of(without)["code"] == 100
    assert with_proof.json()[0]["code"] == 200


@pytest.mark.parametrize(
    ("batch_value", "text"),
    [
        ("not json", "JSON array"),
        ('{"method": "GET"}', "JSON array"),
        ('[{"method": "GET"}]', "relative_url"),
        ('[{"method": "PATCH", "relative_url": "1"}]', "method"),
        ('[{"method": "GET", "relative_url": "{result=a:$.id}"}]', "dependencies"),
        ('[{"method": "POST", "relative_url": "/", "body": "batch=[]"}]', "Unsupported post"),
    ],
)
async def test_malformed_batches(
    client: httpx.AsyncClient, sandbox: Sandbox, batch_value: str, text: str
) -> None:
    response = await client.post(f"{V}/", data={"batch": batch_value}, headers=auth(sandbox, ACME))

    body = response.json()
    message = (
        body["error"]["message"]
        if isinstance(body, dict)
        else json.loads(body[0]["body"])["error"]["message"]
    )
    assert text in message


async def test_root_without_batch_is_error_100(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    response = await client.post(f"{V}/", data={}, headers=auth(sandbox, ACME))

    assert "The parameter batch is required" in error_of(response)["message"]
