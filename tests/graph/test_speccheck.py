"""The spec checker itself: it must catch what it claims to catch."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest

from .speccheck import SPEC_DIR, check_http_request, check_request, load_enums, load_nodes

TASKS = '["ANALYZE","UPLOAD"]'


def test_specs_are_found() -> None:
    assert SPEC_DIR.is_dir()
    assert {"AdsPixel", "Business", "BusinessAgreement"} <= set(load_nodes())
    assert "EDIT" in load_enums()["adspixelagencies_permitted_tasks_enum_param"]


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("POST", "/{pixel}/agencies", {"business": "1", "permitted_tasks": TASKS}),
        ("POST", "/v25.0/{pixel_id}/agencies", {"business": "1", "permitted_tasks": "[]"}),
        ("GET", "/{ads_pixel_id}/agencies", {"fields": "id,name,permitted_tasks", "limit": "5"}),
        ("GET", "/{business_id}/owned_pixels", {"fields": "id,name", "after": "X"}),
        ("GET", "/{pixel}", {"fields": "id,owner_business{id,name},last_fired_time"}),
        ("POST", "/{pending_request_id}", {"request_status": "APPROVE", "asset_id": "5"}),
        ("GET", "/{biz}/received_sharing_agreements", {"request_status": "PENDING"}),
        ("GET", "act_{ad_account}/adspixels", {"sort_by": "NAME"}),
        ("POST", "/{pixel}/events", {"data": '[{"event_name":"x"}]', "appsecret_proof": "ab"}),
        ("POST", "/", {"batch": "[]", "include_headers": "false"}),
    ],
)
def test_conforming_requests_pass(method: str, path: str, params: dict[str, str]) -> None:
    assert check_request(method, path, params) == []


@pytest.mark.parametrize(
    ("method", "path", "params", "expected"),
    [
        ("POST", "/{pixel}/agencies", {"business": "1"}, "permitted_tasks: required"),
        ("POST", "/{pixel}/agencies", {"business": "1", "permitted_tasks": '["X"]'}, "not in enum"),
        ("POST", "/{pixel}/agencies", {"business": "1", "permitted_tasks": "ANALYZE"}, "JSON"),
        ("DELETE", "/{pixel}/agencies", {"business": "1", "tasks": "[]"}, "not a declared"),
        ("POST", "/{request_id}", {"request_status": "approve"}, "not in enum"),
        ("PUT", "/{pixel}/agencies", {}, "not in AdsPixel.json"),
        ("GET", "/{biz}/pending_shared_pixels", {}, "not in Business.json"),
        ("GET", "/{pixel}", {"fields": "id,secret_sauce"}, "'secret_sauce' is not a field"),
        ("GET", "/{biz}/owned_pixels", {"fields": "id,permitted_tasks"}, "not a field"),
        ("GET", "/{pixel}", {"access_token": "EAAB"}, "Authorization header"),
        ("POST", "/{pixel}/agencies", {"fields": "id"}, "not a declared"),
        ("GET", "/{whatever}/agencies", {}, "unknown placeholder"),
        ("GET", "/123/agencies", {}, "not a placeholder"),
        ("POST", "/", {"batch": "[]", "include_headers": "no"}, "bool"),
    ],
)
def test_problems_are_reported(
    method: str, path: str, params: dict[str, str], expected: str
) -> None:
    problems = check_request(method, path, params)
    assert any(expected in p for p in problems), problems


def test_recorded_request_and_batch_items_are_checked() -> None:
    ops = [
        {"method": "POST", "relative_url": "11/agencies", "body": urlencode({"business": "22"})},
        {"method": "GET", "relative_url": "11/agencies?fields=id%2Cbogus"},
        {"method": "GET", "relative_url": "99/agencies"},
    ]
    request = httpx.Request(
        "POST",
        "https://graph.facebook.com/v25.0/",
        data={"batch": json.dumps(ops), "include_headers": "false"},
    )
    problems = check_http_request(request, {"11": "pixel", "22": "biz"})
    assert any("batch[0]" in p and "permitted_tasks: required" in p for p in problems)
    assert any("batch[1]" in p and "'bogus'" in p for p in problems)
    assert any("batch[2]" in p and "not mapped" in p for p in problems)


def test_batch_over_50_is_reported() -> None:
    ops = [{"method": "GET", "relative_url": "11/agencies"}] * 51
    request = httpx.Request(
        "POST", "https://graph.facebook.com/v25.0/", data={"batch": json.dumps(ops)}
    )
    assert any("max 50" in p for p in check_http_request(request, {"11": "pixel"}))


def test_recorded_get_under_a_prefix_with_duplicate_param() -> None:
    request = httpx.Request("GET", "http://127.0.0.1:1/x/v25.0/11/agencies?limit=1&limit=2")
    assert check_http_request(request, {"11": "pixel"}) == ["limit: sent more than once"]
