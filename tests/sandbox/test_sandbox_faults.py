"""Fault injection: latency, throttling, 5xx, timeouts, drops, expiry, denials; targeting."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import httpx
import pytest

from bot.sandbox import Sandbox, faults_from_cli
from bot.sandbox.faults import FaultRule, Faults
from tests.sandbox.support import (
    ACME,
    BRIGHT,
    PIXEL_CHECKOUT,
    PIXEL_WEB,
    Sleeps,
    V,
    auth,
    error_of,
    new_sandbox,
    share,
)


@pytest.fixture
def setup() -> tuple[Sandbox, Sleeps]:
    sandbox, _, sleeps = new_sandbox()
    return sandbox, sleeps


@pytest.fixture
def sandbox(setup: tuple[Sandbox, Sleeps]) -> Sandbox:
    return setup[0]


async def read(client: httpx.AsyncClient, sandbox: Sandbox, who: str = ACME) -> httpx.Response:
    return await client.get(f"{V}/{PIXEL_WEB}", headers=auth(sandbox, who))


async def test_latency_applies_to_every_call(
    client: httpx.AsyncClient, setup: tuple[Sandbox, Sleeps]
) -> None:
    sandbox, sleeps = setup
    sandbox.faults.latency_ms = 250

    await read(client, sandbox)
    await client.get(f"{V}/999999999999999", headers=auth(sandbox, ACME))

    assert sleeps.seconds == [0.25, 0.25]


async def test_rate_limit_the_next_calls(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    rule = sandbox.faults.rate_limit(times=2, regain_minutes=7)

    answers = [await read(client, sandbox) for _ in range(3)]

    assert [a.status_code for a in answers] == [400, 400, 200]
    error = error_of(answers[0])
    assert (error["code"], error["error_subcode"], error["type"]) == (
        80004,
        2446079,
        "OAuthException",
    )
    usage = json.loads(answers[0].headers["x-business-use-case-usage"])[ACME][0]
    assert usage["estimated_time_to_regain_access"] == 7
    assert usage["call_count"] >= 100
    assert (rule.matched, rule.fired) == (2, 2)
    assert [c.fault for c in sandbox.calls] == ["rate_limit", "rate_limit", None]


async def test_rate_limit_every_nth_call(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.rate_limit_every = 3

    codes = [(await read(client, sandbox)).status_code for _ in range(6)]

    assert codes == [200, 200, 400, 200, 200, 400]


@pytest.mark.parametrize("code", [1, 2])
async def test_transient_errors(client: httpx.AsyncClient, sandbox: Sandbox, code: int) -> None:
    sandbox.faults.transient(code=code)

    failed, recovered = await read(client, sandbox), await read(client, sandbox)

    assert failed.status_code == 500
    assert (error_of(failed)["code"], error_of(failed)["is_transient"]) == (code, True)
    assert recovered.status_code == 200


async def test_error_rate_is_reproducible(sandbox: Sandbox) -> None:
    def outcomes(seed: int) -> list[bool]:
        faults = Faults(error_rate=0.5, seed=seed)
        return [faults.decide("GET", "/1", ACME, "t", in_batch=False) is None for _ in range(20)]

    assert outcomes(7) == outcomes(7)
    assert 0 < sum(outcomes(7)) < 20
    assert all(
        r is not None for r in [Faults(error_rate=1.0).decide("GET", "/", None, "", in_batch=False)]
    )


async def test_timeout_holds_the_answer_after_applying_the_call(
    client: httpx.AsyncClient, setup: tuple[Sandbox, Sleeps]
) -> None:
    sandbox, sleeps = setup
    sandbox.faults.timeout(hold_ms=30_000, method="POST", path=r"/agencies$")

    response = await share(client, sandbox, PIXEL_CHECKOUT, BRIGHT)

    assert 30.0 in sleeps.seconds
    assert response.json() == {"success": True}
    assert BRIGHT in sandbox.world.pixels[PIXEL_CHECKOUT].agencies


async def test_a_client_that_gives_up_gets_nothing(sandbox: Sandbox) -> None:
    async def forever(seconds: float) -> None:
        await asyncio.Event().wait()  # the hold never ends by itself

    sandbox.sleep = forever
    sandbox.faults.timeout(hold_ms=60_000)
    messages: Iterator[dict[str, object]] = iter(
        [{"type": "http.request", "body": b"", "more_body": False}, {"type": "http.disconnect"}]
    )
    sent: list[object] = []

    async def receive() -> dict[str, object]:
        return next(messages)

    async def send(message: object) -> None:
        sent.append(message)

    token = sandbox.world.token_for(ACME).encode()
    scope = {
        "type": "http", "method": "GET", "path": f"/v25.0/{PIXEL_WEB}", "query_string": b"",
        "headers": [(b"authorization", b"Bearer " + token)], "scheme": "http", "server": ("x", 80),
    }  # fmt: skip
    await asyncio.wait_for(sandbox(scope, receive, send), timeout=5)

    assert sent == []


@pytest.mark.parametrize("takes_effect", [True, False])
async def test_drop_hangs_up(
    client: httpx.AsyncClient, sandbox: Sandbox, takes_effect: bool
) -> None:
    sandbox.faults.drop(path=r"/agencies$", takes_effect=takes_effect)

    with pytest.raises(httpx.ReadError):
        await share(client, sandbox, PIXEL_CHECKOUT, BRIGHT)

    assert (BRIGHT in sandbox.world.pixels[PIXEL_CHECKOUT].agencies) is takes_effect


async def test_drop_on_a_real_server_answers_a_bare_502(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    sandbox.drop_raises = False
    sandbox.faults.drop()

    response = await read(client, sandbox)

    assert (response.status_code, response.content) == (502, b"")


@pytest.mark.parametrize("takes_effect", [True, False])
async def test_server_error_answers_a_bare_5xx_after_applying_or_not(
    client: httpx.AsyncClient, sandbox: Sandbox, takes_effect: bool
) -> None:
    rule = sandbox.faults.server_error(path=r"/agencies$", takes_effect=takes_effect, status=503)

    response = await share(client, sandbox, PIXEL_CHECKOUT, BRIGHT)

    # No Graph error object: the answer does not say whether the share happened.
    assert (response.status_code, response.content) == (503, b"")
    assert response.headers["x-fb-trace-id"]
    assert (BRIGHT in sandbox.world.pixels[PIXEL_CHECKOUT].agencies) is takes_effect
    after = await share(client, sandbox, PIXEL_CHECKOUT, BRIGHT)
    assert after.status_code == 200 and rule.fired == 1
    assert [c.fault for c in sandbox.calls] == ["server_error", None]
    assert sandbox.calls[0].status == 503


def test_server_error_rules_over_the_control_api() -> None:
    faults = Faults.from_dict({"rules": [{"kind": "server_error", "takes_effect": False}]})

    [rule] = faults.rules
    assert (rule.kind, rule.status, rule.takes_effect) == ("server_error", 500, False)
    with pytest.raises(ValueError, match="5xx"):
        Faults.from_dict({"rules": [{"kind": "server_error", "status": 404}]})


async def test_token_expiry_for_one_business(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.expire_token(business_id=BRIGHT)

    expired, fine = await read(client, sandbox, BRIGHT), await read(client, sandbox, ACME)

    assert (error_of(expired)["code"], error_of(expired)["error_subcode"]) == (190, 463)
    assert fine.status_code == 200


async def test_token_expiry_for_one_token(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    first, second = sandbox.world.businesses[ACME].tokens
    sandbox.faults.expire_token(token=second)

    ok = await client.get(f"{V}/{PIXEL_WEB}", headers={"Authorization": f"Bearer {first}"})
    expired = await client.get(f"{V}/{PIXEL_WEB}", headers={"Authorization": f"Bearer {second}"})

    assert ok.status_code == 200
    assert error_of(expired)["error_subcode"] == 463
    assert second not in repr(sandbox.faults) and "***" in json.dumps(sandbox.faults.public())


async def test_permission_error_for_a_path(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.faults.deny(path=r"/agencies$", method="POST")

    denied = await share(client, sandbox, PIXEL_CHECKOUT, BRIGHT)
    read_ok = await client.get(f"{V}/{PIXEL_CHECKOUT}/agencies", headers=auth(sandbox, ACME))

    assert (denied.status_code, error_of(denied)["code"]) == (400, 200)
    assert read_ok.status_code == 200


async def test_rules_target_method_path_business_and_count(
    client: httpx.AsyncClient, sandbox: Sandbox
) -> None:
    rule = sandbox.faults.transient(
        times=None, every=2, method="GET", path=rf"^/{PIXEL_WEB}$", business_id=ACME
    )

    acme = [(await read(client, sandbox)).status_code for _ in range(4)]
    bright = [(await read(client, sandbox, BRIGHT)).status_code for _ in range(2)]
    other_path = await client.get(f"{V}/{PIXEL_WEB}/agencies", headers=auth(sandbox, ACME))

    assert acme == [200, 500, 200, 500]
    assert bright == [200, 200]
    assert other_path.status_code == 200
    assert (rule.matched, rule.fired) == (4, 2)


@pytest.mark.parametrize(
    "options",
    [{"kind": "explode"}, {"kind": "transient", "every": 0}, {"kind": "transient", "code": 3},
     {"kind": "timeout", "hold_ms": -1}, {"kind": "permission", "path": "("},
     {"kind": "rate_limit", "method": "PATCH"}],
)  # fmt: skip
def test_bad_rules_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        FaultRule(**options)  # type: ignore[arg-type]


def test_faults_from_cli() -> None:
    faults = faults_from_cli(
        latency_ms=20, rate_limit_every=10, error_rate=0.1, timeout_every=5, seed=1
    )

    assert (faults.latency_ms, faults.rate_limit_every, faults.error_rate) == (20, 10, 0.1)
    assert faults.rules[0].kind == "timeout" and faults.rules[0].every == 5
    with pytest.raises(ValueError, match="error_rate"):
        faults_from_cli(error_rate=1.5)
    with pytest.raises(ValueError, match="latency_ms"):
        faults_from_cli(latency_ms=-1)


async def test_faults_over_the_control_api(client: httpx.AsyncClient, sandbox: Sandbox) -> None:
    rules = [
        {"kind": "transient", "times": 1, "method": "GET"},
        {"kind": "token_expired", "token": "x"},
    ]
    set_ = await client.post("/_sandbox/faults", json={"latency_ms": 0, "rules": rules})
    failed = await read(client, sandbox)
    shown = await client.get("/_sandbox/faults")
    cleared = await client.delete("/_sandbox/faults")
    bad = await client.post("/_sandbox/faults", json={"rules": [{"kind": "nope"}]})

    assert set_.status_code == 200
    assert failed.status_code == 500
    assert shown.json()["rules"][0]["fired"] == 1
    assert shown.json()["rules"][1]["token"] == "***"
    assert cleared.json()["rules"] == []
    assert bad.status_code == 400 and "fault kind" in bad.json()["error"]
    assert (await read(client, sandbox)).status_code == 200
