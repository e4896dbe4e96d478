"""Graph error objects become the right exception, whatever shape the answer takes."""

from __future__ import annotations

import httpx
import pytest

from bot.flows.meta.errors import (
    GraphAuthError,
    GraphBlocked,
    GraphError,
    GraphInvalidParameter,
    GraphOtherError,
    GraphPermissionError,
    GraphRateLimited,
    GraphTimeout,
    GraphTransientError,
)
from bot.graph import GraphClient, RetryPolicy
from bot.graph.errors import error_from_response, from_error_object

from .conftest import BIZ, PIXEL, TOKEN, FakeClock, Recorder, graph_json


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (190, GraphAuthError),
        (102, GraphAuthError),
        (10, GraphPermissionError),
        (200, GraphPermissionError),
        (270, GraphPermissionError),
        (299, GraphPermissionError),
        (100, GraphInvalidParameter),
        (4, GraphRateLimited),
        (17, GraphRateLimited),
        (32, GraphRateLimited),
        (613, GraphRateLimited),
        (80000, GraphRateLimited),
        (80004, GraphRateLimited),
        (80014, GraphRateLimited),
        (1, GraphTransientError),
        (2, GraphTransientError),
        (341, GraphTransientError),
        (368, GraphBlocked),
        (3, GraphOtherError),
        (300, GraphOtherError),
        (80015, GraphOtherError),
        (6200, GraphOtherError),
    ],
)
def test_codes_map_to_classes(code: int, cls: type[GraphError]) -> None:
    error = from_error_object({"code": code, "message": "m"}, 400)
    assert type(error) is cls
    assert isinstance(error, GraphError)


def test_all_fields_are_carried() -> None:
    body = {
        "error": {
            "message": "Invalid OAuth access token.",
            "type": "OAuthException",
            "code": 190,
            "error_subcode": 460,
            "error_user_title": "Session expired",
            "error_user_msg": "Log in again.",
            "fbtrace_id": "EJplcsCHuLu",
            "error_data": {"blame_field_specs": [["business"]]},
        }
    }
    error = error_from_response(401, body, b"{}")
    assert isinstance(error, GraphAuthError)
    assert (error.code, error.error_subcode, error.type) == (190, 460, "OAuthException")
    assert error.message == "Invalid OAuth access token."
    assert error.error_user_title == "Session expired"
    assert error.user_message == "Log in again."
    assert error.fbtrace_id == "EJplcsCHuLu"
    assert error.http_status == 401
    assert error.error_data == {"blame_field_specs": [["business"]]}
    assert "#190/460" in str(error) and "EJplcsCHuLu" in str(error)


def test_error_data_as_json_string_and_garbage() -> None:
    as_string = from_error_object({"code": 100, "error_data": '{"blame_field": "x"}'}, 400)
    assert as_string.error_data == {"blame_field": "x"}
    garbage = from_error_object({"code": 100, "error_data": "not json"}, 400)
    assert garbage.error_data == {"raw": "not json"}


def test_is_transient_flag_makes_it_transient() -> None:
    error = from_error_object({"code": 100, "is_transient": True}, 400)
    assert type(error) is GraphTransientError and error.is_transient


def test_http_200_with_error_body_is_an_error() -> None:
    error = error_from_response(200, {"error": {"code": 200, "message": "no"}}, b"{}")
    assert isinstance(error, GraphPermissionError) and error.http_status == 200


@pytest.mark.parametrize("body", [{"success": False}, False])
def test_success_false_is_an_error(body: object) -> None:
    assert isinstance(error_from_response(200, body, b"x"), GraphOtherError)


@pytest.mark.parametrize(
    ("status", "raw", "cls"),
    [
        (200, b"", GraphTransientError),
        (200, b"Service Unavailable", GraphTransientError),
        (502, b"<html>Bad gateway</html>", GraphTransientError),
        (500, b"", GraphTransientError),
        (429, b"slow down", GraphRateLimited),
        (404, b"<html>not found</html>", GraphOtherError),
    ],
)
def test_empty_and_non_json_bodies(status: int, raw: bytes, cls: type[GraphError]) -> None:
    error = error_from_response(status, None, raw, "TRACE")
    assert type(error) is cls
    assert error is not None and error.fbtrace_id == "TRACE" and error.code is None


def test_error_without_object_and_odd_values() -> None:
    assert isinstance(error_from_response(503, {"data": []}, b"{}"), GraphTransientError)
    assert isinstance(error_from_response(200, {"error": "boom"}, b"{}"), GraphOtherError)
    odd = from_error_object({"code": "190", "error_subcode": True, "message": ""}, 400)
    assert isinstance(odd, GraphAuthError) and odd.error_subcode is None and odd.message


def test_successes_are_not_errors() -> None:
    assert error_from_response(200, {"success": True}, b"{}") is None
    assert error_from_response(200, {"data": []}, b"{}") is None
    assert error_from_response(200, True, b"true") is None


async def test_client_raises_mapped_errors_without_retrying_them(
    recorder: Recorder, clock: FakeClock
) -> None:
    recorder.handler = lambda r: graph_json(
        {"error": {"code": 190, "message": "expired", "fbtrace_id": "T1"}}, status=400
    )
    async with GraphClient(transport=recorder.transport(), sleep=clock.sleep, clock=clock) as g:
        with pytest.raises(GraphAuthError) as info:
            await g.get_business(TOKEN, BIZ)
    assert info.value.fbtrace_id == "T1" and len(recorder.requests) == 1 and clock.sleeps == []


async def test_token_echoed_in_a_message_is_redacted(recorder: Recorder) -> None:
    secret = TOKEN.get_secret_value()
    recorder.handler = lambda r: graph_json(
        {"error": {"code": 190, "message": f"Bad token {secret}"}}, status=400
    )
    async with GraphClient(transport=recorder.transport()) as graph:
        with pytest.raises(GraphAuthError) as info:
            await graph.get_pixel(TOKEN, PIXEL)
    assert secret not in str(info.value) and secret not in repr(info.value.args)


async def test_transient_error_surfaces_after_bounded_attempts(
    recorder: Recorder, clock: FakeClock
) -> None:
    recorder.handler = lambda r: httpx.Response(500, content=b"")
    policy = RetryPolicy(max_attempts=3, budget=1000.0)
    async with GraphClient(
        transport=recorder.transport(), sleep=clock.sleep, clock=clock, retry=policy
    ) as graph:
        with pytest.raises(GraphTransientError) as info:
            await graph.get_pixel(TOKEN, PIXEL)
    assert info.value.http_status == 500
    assert len(recorder.requests) == 3 and len(clock.sleeps) == 2
    assert not isinstance(info.value, GraphTimeout)


@pytest.mark.parametrize(
    ("body", "cls"),
    [
        (
            {"error": {"code": 200, "message": "Permission Denied", "error_subcode": 2655040}},
            GraphPermissionError,
        ),
        ({"success": False}, GraphOtherError),
    ],
)
async def test_http_200_failures_raise_from_the_client(
    recorder: Recorder, body: dict[str, object], cls: type[GraphError]
) -> None:
    recorder.handler = lambda r: graph_json(body, status=200)
    async with GraphClient(transport=recorder.transport()) as graph:
        with pytest.raises(cls) as info:
            await graph.unshare_pixel(TOKEN, PIXEL, BIZ)
    assert info.value.http_status == 200 and len(recorder.requests) == 1
