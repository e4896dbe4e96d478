"""Retry and no-retry decisions, with a fake clock: nothing here really sleeps."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from bot.flows.meta.errors import (
    GraphPermissionError,
    GraphRateLimited,
    GraphTimeout,
    GraphTransientError,
)
from bot.flows.meta.types import ShareStatus
from bot.graph import GraphClient, RetryPolicy

from .conftest import AGENCY, BIZ, PIXEL, TOKEN, FakeClock, Handler, Recorder, graph_json

THROTTLED = {"error": {"code": 80004, "error_subcode": 2446079, "message": "Too many calls"}}


def buc_header(minutes: float, percent: int = 100) -> dict[str, str]:
    usage = {
        BIZ: [
            {
                "type": "ads_management",
                "call_count": percent,
                "total_cputime": 10,
                "total_time": 10,
                "estimated_time_to_regain_access": minutes,
            }
        ]
    }
    return {"X-Business-Use-Case-Usage": json.dumps(usage)}


def sequence(*answers: httpx.Response | Exception) -> Handler:
    """A handler that gives these answers in turn (exceptions are raised)."""
    queue: Iterator[httpx.Response | Exception] = iter(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(queue)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handler


def routes(post: Handler, get: Handler) -> Handler:
    return lambda request: post(request) if request.method == "POST" else get(request)


async def test_rate_limit_waits_for_buc_estimate(
    client: GraphClient, recorder: Recorder, clock: FakeClock
) -> None:
    recorder.handler = sequence(
        graph_json(THROTTLED, 400, buc_header(minutes=2)), graph_json({"id": BIZ, "name": "B"})
    )
    business = await client.get_business(TOKEN, BIZ)
    assert business.name == "B"
    assert clock.sleeps == [120.0]  # minutes, not seconds
    assert len(recorder.requests) == 2


async def test_rate_limit_beyond_budget_surfaces_with_retry_after(
    recorder: Recorder, clock: FakeClock
) -> None:
    recorder.handler = lambda r: graph_json(THROTTLED, 400, buc_header(minutes=30))
    async with GraphClient(
        transport=recorder.transport(),
        sleep=clock.sleep,
        clock=clock,
        retry=RetryPolicy(budget=300.0),
    ) as graph:
        with pytest.raises(GraphRateLimited) as info:
            await graph.get_business(TOKEN, BIZ)
    assert info.value.retry_after == 1800.0
    assert clock.sleeps == [] and len(recorder.requests) == 1
    assert graph.last_usage is not None and graph.last_usage.regain_seconds == 1800.0


async def test_rate_limit_backs_off_exponentially_then_surfaces(
    recorder: Recorder, clock: FakeClock
) -> None:
    recorder.handler = lambda r: graph_json({"error": {"code": 17, "message": "user limit"}}, 400)
    async with GraphClient(
        transport=recorder.transport(),
        sleep=clock.sleep,
        clock=clock,
        jitter=lambda: 0.5,
        retry=RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=3.0, budget=100.0),
    ) as graph:
        with pytest.raises(GraphRateLimited):
            await graph.get_pixel(TOKEN, PIXEL)
    # Full jitter: uniform(0, min(max_delay, base * 2**n)); the fake draws the midpoint.
    assert clock.sleeps == [0.5, 1.0, 1.5, 1.5]
    assert len(recorder.requests) == 5


async def test_total_time_budget_bounds_retries(recorder: Recorder, clock: FakeClock) -> None:
    recorder.handler = lambda r: graph_json({"error": {"code": 2, "message": "down"}}, 503)
    async with GraphClient(
        transport=recorder.transport(),
        sleep=clock.sleep,
        clock=clock,
        jitter=lambda: 1.0,
        retry=RetryPolicy(max_attempts=50, base_delay=4.0, max_delay=100.0, budget=20.0),
    ) as graph:
        with pytest.raises(GraphTransientError):
            await graph.get_pixel(TOKEN, PIXEL)
    assert clock.sleeps == [4.0, 8.0] and clock.now <= 20.0


async def test_app_usage_at_limit_slows_the_retry(
    client: GraphClient, recorder: Recorder, clock: FakeClock
) -> None:
    app_usage = {"X-App-Usage": '{"call_count":100,"total_time":20,"total_cputime":20}'}
    recorder.handler = sequence(
        graph_json({"error": {"code": 4, "message": "app limit"}}, 400, app_usage),
        graph_json({"id": BIZ, "name": "B"}),
    )
    await client.get_business(TOKEN, BIZ)
    assert clock.sleeps == [60.0]
    assert client.last_usage is not None and client.last_usage.max_percent == 100


async def test_permission_error_is_never_retried(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = lambda r: graph_json({"error": {"code": 200, "message": "no"}}, 403)
    with pytest.raises(GraphPermissionError):
        await client.unshare_pixel(TOKEN, PIXEL, AGENCY)
    assert len(recorder.requests) == 1


async def test_get_is_retried_after_read_timeout(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = sequence(httpx.ReadTimeout("slow"), graph_json({"id": BIZ, "name": "B"}))
    assert (await client.get_business(TOKEN, BIZ)).name == "B"
    assert len(recorder.requests) == 2


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.ReadError("connection reset"),
        httpx.Response(504, content=b"<html>Gateway Timeout</html>"),
        httpx.Response(200, content=b""),
    ],
)
async def test_write_that_may_have_landed_is_never_repeated(
    client: GraphClient, recorder: Recorder, failure: httpx.Response | Exception
) -> None:
    recorder.handler = sequence(failure, graph_json({"success": True}))
    with pytest.raises(GraphTimeout):
        await client.unshare_pixel(TOKEN, PIXEL, AGENCY)
    assert len(recorder.requests) == 1


async def test_write_is_retried_when_it_never_left(client: GraphClient, recorder: Recorder) -> None:
    recorder.handler = sequence(httpx.ConnectError("refused"), graph_json({"success": True}))
    await client.unshare_pixel(TOKEN, PIXEL, AGENCY)
    assert [r.method for r in recorder.requests] == ["DELETE", "DELETE"]


async def test_write_is_retried_after_explicit_transient_error(
    client: GraphClient, recorder: Recorder
) -> None:
    recorder.handler = sequence(
        graph_json({"error": {"code": 2, "message": "Service temporarily unavailable"}}, 500),
        graph_json({"success": True}),
    )
    await client.unshare_pixel(TOKEN, PIXEL, AGENCY)
    assert len(recorder.requests) == 2


async def test_share_timeout_checks_agencies_and_reports_shared(
    client: GraphClient, recorder: Recorder
) -> None:
    listed = {"data": [{"id": AGENCY, "name": "A", "permitted_tasks": ["UPLOAD", "ANALYZE"]}]}
    recorder.handler = routes(
        post=sequence(httpx.ReadTimeout("slow")), get=lambda r: graph_json(listed)
    )
    result = await client.share_pixel(TOKEN, PIXEL, AGENCY, ["ANALYZE", "UPLOAD"])
    assert result.status is ShareStatus.SHARED
    assert [(r.method, r.url.path) for r in recorder.requests] == [
        ("POST", f"/v25.0/{PIXEL}/agencies"),
        ("GET", f"/v25.0/{PIXEL}/agencies"),
    ]


@pytest.mark.parametrize(
    "listed",
    [
        [],
        [{"id": AGENCY, "name": "A", "permitted_tasks": ["ANALYZE"]}],  # other tasks
        [{"id": "999", "name": "Other", "permitted_tasks": ["ANALYZE", "UPLOAD"]}],
    ],
)
async def test_share_timeout_without_proof_raises_and_does_not_repeat(
    client: GraphClient, recorder: Recorder, listed: list[dict[str, object]]
) -> None:
    recorder.handler = routes(
        post=sequence(httpx.ReadTimeout("slow")),
        get=lambda r: graph_json({"data": listed}),
    )
    with pytest.raises(GraphTimeout):
        await client.share_pixel(TOKEN, PIXEL, AGENCY, ["ANALYZE", "UPLOAD"])
    assert [r.method for r in recorder.requests] == ["POST", "GET"]


async def test_share_timeout_when_the_check_fails_raises_the_timeout(
    client: GraphClient, recorder: Recorder
) -> None:
    recorder.handler = routes(
        post=sequence(httpx.ReadTimeout("slow")),
        get=lambda r: graph_json({"error": {"code": 100, "message": "bad"}}, 400),
    )
    with pytest.raises(GraphTimeout):
        await client.share_pixel(TOKEN, PIXEL, AGENCY, ["ANALYZE"])
    assert sum(r.method == "POST" for r in recorder.requests) == 1
