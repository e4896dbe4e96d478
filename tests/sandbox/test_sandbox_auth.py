"""Authentication (tokens, appsecret_proof), usage headers, the hourly budget, the call log."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
import pytest

from bot.sandbox import Sandbox
from tests.sandbox.support import (
    ACME,
    BRIGHT,
    NOVA,
    PIXEL_CHECKOUT,
    PIXEL_WEB,
    Clock,
    V,
    auth,
    error_of,
    new_sandbox,
    share,
)


@pytest.fixture
def world_and_clock() -> tuple[Sandbox, Clock]:
    sandbox, clock, _ = new_sandbox()
    return sandbox, clock


@pytest.fixture
def sandbox(world_and_clock: tuple[Sandbox, Clock]) -> Sandbox:
    return world_and_clock[0]


async def test_missing_and_unknown_tokens(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    missing = await client.get(f"{V}/{PIXEL_WEB}")
    unknown = await client.get(f"{V}/{PIXEL_WEB}", headers={"Authorization": "Bearer EAAnope"})

    assert (missing.status_code, error_of(missing)["code"]) == (400, 104)
    error = error_of(unknown)
    assert unknown.status_code == 400
    assert set(error) == {
        "message",
        "type",
        "code",
        "error_subcode",
        "error_user_title",
        "error_user_msg",
        "fbtrace_id",
    }
    assert (error["code"], error["error_subcode"], error["type"]) == (190, 467, "OAuthException")


async def test_expired_token(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    await client.post("/_sandbox/tokens/expire", json={"business_id": NOVA})

    response = await client.get(f"{V}/{NOVA}", headers=auth(sandbox, NOVA))

    assert (error_of(response)["code"], error_of(response)["error_subcode"]) == (190, 463)


# The test's own HTTP client logs the URL it requests, token included: that is the point.
@pytest.mark.secrets_in_logs
async def test_token_as_access_token_param(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    token = sandbox.world.token_for(ACME)
    query = await client.get(f"{V}/{PIXEL_WEB}", params={"access_token": token})
    form = await client.post(
        f"{V}/{PIXEL_CHECKOUT}/agencies",
        data={"access_token": token, "business": BRIGHT, "permitted_tasks": '["ANALYZE"]'},
    )

    assert query.status_code == 200
    assert form.json() == {"success": True}
    assert all("access_token" not in call.params for call in sandbox.calls)


async def test_appsecret_proof_when_the_app_secret_is_set(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.world.settings.app_secret = "sandbox-app-secret"
    token = sandbox.world.token_for(ACME)
    proof = hmac.new(b"sandbox-app-secret", token.encode(), hashlib.sha256).hexdigest()
    url = f"{V}/{PIXEL_WEB}"

    none = await client.get(url, headers=auth(sandbox, ACME))
    wrong = await client.get(url, params={"appsecret_proof": "0" * 64}, headers=auth(sandbox, ACME))
    right = await client.get(url, params={"appsecret_proof": proof}, headers=auth(sandbox, ACME))

    assert error_of(none)["code"] == 100
    assert error_of(wrong)["message"] == "Invalid appsecret_proof provided in the API argument"
    assert right.status_code == 200


async def test_usage_headers_on_every_answer(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    ok = await client.get(f"{V}/{PIXEL_WEB}", headers=auth(sandbox, ACME))
    failed = await client.get(f"{V}/999999999999999", headers=auth(sandbox, ACME))
    anonymous = await client.get(f"{V}/{PIXEL_WEB}")

    for response in (ok, failed, anonymous):
        app = json.loads(response.headers["x-app-usage"])
        assert set(app) == {"call_count", "total_time", "total_cputime"}
        assert "x-business-use-case-usage" in response.headers
    buc = json.loads(failed.headers["x-business-use-case-usage"])
    usage = buc[ACME][0]
    assert usage["type"] == "ads_management"
    assert {"call_count", "total_cputime", "total_time", "estimated_time_to_regain_access"} <= set(
        usage
    )
    assert json.loads(anonymous.headers["x-business-use-case-usage"]) == {}


async def test_the_hourly_budget_throttles_then_recovers(
    client: httpx.AsyncClient, world_and_clock: tuple[Sandbox, Clock]
) -> None:
    sandbox, clock = world_and_clock
    sandbox.world.settings.hourly_call_budget = 4
    url = f"{V}/{PIXEL_WEB}"

    answers = [await client.get(url, headers=auth(sandbox, ACME)) for _ in range(5)]
    other_business = await client.get(url, headers=auth(sandbox, BRIGHT))
    clock.advance(hours=1, seconds=1)
    later = await client.get(url, headers=auth(sandbox, ACME))

    assert [a.status_code for a in answers] == [200, 200, 200, 200, 400]
    counts = [
        json.loads(a.headers["x-business-use-case-usage"])[ACME][0]["call_count"] for a in answers
    ]
    assert counts == [25, 50, 75, 100, 125]
    error = error_of(answers[-1])
    assert (error["code"], error["error_subcode"]) == (80004, 2446079)
    throttled = json.loads(answers[-1].headers["x-business-use-case-usage"])[ACME][0]
    assert throttled["estimated_time_to_regain_access"] == 60
    assert other_business.status_code == 200
    assert later.status_code == 200


# Again the test's own client logs the access_token URL; the sandbox's log is checked below.
@pytest.mark.secrets_in_logs
async def test_the_call_log_never_holds_a_token(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    await share(client, sandbox, PIXEL_CHECKOUT, BRIGHT)
    await client.get(f"{V}/{PIXEL_WEB}", params={"access_token": sandbox.world.token_for(NOVA)})

    first = sandbox.calls[0]
    assert (first.method, first.path, first.business_id) == (
        "POST",
        f"/{PIXEL_CHECKOUT}/agencies",
        ACME,
    )
    assert first.params == {"business": BRIGHT, "permitted_tasks": '["ANALYZE"]'}
    logged = json.dumps((await client.get("/_sandbox/calls")).json())
    for business in sandbox.world.businesses.values():
        assert all(token not in logged for token in business.tokens)
    assert (sandbox.calls[1].business_id, sandbox.calls[1].error_code) == (NOVA, 100)
