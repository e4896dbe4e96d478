"""Usage headers are parsed into percentages and waits, and turned into advice to pause."""

from __future__ import annotations

import json

import pytest

from bot.graph import GraphClient, Usage, pause_for
from bot.graph.usage import BusinessUsage, parse_usage

from .conftest import BIZ, PIXEL, TOKEN, Recorder, graph_json

BUC = {
    "111": [
        {
            "type": "ads_management",
            "call_count": 95,
            "total_cputime": 20,
            "total_time": 20,
            "estimated_time_to_regain_access": 0,
            "ads_api_access_tier": "development_access",
        },
        {"type": "custom_audience", "call_count": 5, "estimated_time_to_regain_access": 3},
    ],
    "222": {"type": "pages", "call_count": "40"},  # a lone object, numbers as strings
}


def test_parses_all_three_headers() -> None:
    usage = parse_usage(
        {
            "x-app-usage": '{"call_count":28,"total_time":25,"total_cputime":26}',
            "x-business-use-case-usage": json.dumps(BUC),
            "x-ad-account-usage": '{"acc_id_util_pct":9.67,"reset_time_duration":100}',
        }
    )
    assert usage is not None
    assert (usage.app_call_count, usage.app_total_time, usage.app_total_cputime) == (28, 25, 26)
    assert [(b.business_id, b.type) for b in usage.business] == [
        ("111", "ads_management"),
        ("111", "custom_audience"),
        ("222", "pages"),
    ]
    assert usage.business[2].call_count == 40
    assert usage.ad_account_percent == 9.67
    assert usage.max_percent == 95
    assert usage.regain_seconds == 180  # 3 minutes


def test_no_headers_and_garbage() -> None:
    assert parse_usage({}) is None
    usage = parse_usage({"x-app-usage": "not json", "x-business-use-case-usage": "[1]"})
    assert usage == Usage()


def test_ad_account_reset_counts_only_when_exhausted() -> None:
    low = parse_usage({"x-ad-account-usage": '{"acc_id_util_pct":50,"reset_time_duration":100}'})
    full = parse_usage({"x-ad-account-usage": '{"acc_id_util_pct":100,"reset_time_duration":90}'})
    assert low is not None and low.regain_seconds == 0
    assert full is not None and full.regain_seconds == 90


@pytest.mark.parametrize(
    ("percent", "regain", "expected"),
    [(0, 0, 0.0), (80, 0, 0.0), (90, 0, 30.0), (100, 0, 60.0), (150, 0, 60.0), (10, 120, 120.0)],
)
def test_pause_for(percent: float, regain: float, expected: float) -> None:
    usage = Usage(business=(BusinessUsage("1", "ads_management", percent, 0, 0, regain),))
    assert pause_for(usage) == pytest.approx(expected)


def test_pause_for_nothing_known() -> None:
    assert pause_for(None) == 0.0


async def test_client_exposes_the_last_usage(client: GraphClient, recorder: Recorder) -> None:
    assert client.last_usage is None
    recorder.handler = lambda r: graph_json(
        {"id": BIZ, "name": "B"}, headers={"X-App-Usage": '{"call_count":85}'}
    )
    await client.get_business(TOKEN, BIZ)
    assert client.last_usage is not None and client.last_usage.max_percent == 85
    assert pause_for(client.last_usage) == pytest.approx(15.0)
    recorder.handler = lambda r: graph_json({"id": PIXEL, "name": "P"})
    await client.get_pixel(TOKEN, PIXEL)  # no usage headers: the last known usage stays
    assert client.last_usage.max_percent == 85
