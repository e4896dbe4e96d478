"""The Slack Web API client pixelbot makes: Slack's rate limits and server errors ridden out,
every attempt counted, and a lasting outage still reported as it was."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY
from slack_sdk.errors import SlackApiError

from bot.slack.web_client import RATE_LIMIT_RETRIES, web_client
from tests.fakes.slack import BOT_TOKEN, FakeSlack


def _attempts(outcome: str) -> float:
    labels = {"method": "chat.postMessage", "outcome": outcome}
    return REGISTRY.get_sample_value("pixelbot_slack_api_calls_total", labels) or 0.0


@pytest.mark.parametrize("statuses", [(429, 429), (500,), (503, 503)], ids=str)
async def test_a_passing_outage_is_ridden_out(
    fake_slack: FakeSlack, statuses: tuple[int, ...]
) -> None:
    fake_slack.outage("chat.postMessage", *statuses)
    before_ok = _attempts("ok")
    client = web_client(BOT_TOKEN, fake_slack.base_url)
    answer = await client.chat_postMessage(channel="C0APPROVAL", text="hello")
    assert answer["ok"] is True
    assert len(fake_slack.calls_to("chat.postMessage")) == len(statuses) + 1
    assert _attempts("ok") == before_ok + 1


async def test_rate_limits_are_counted_once_per_attempt(fake_slack: FakeSlack) -> None:
    fake_slack.outage("chat.postMessage", 429, 429)
    before = _attempts("ratelimited")
    await web_client(BOT_TOKEN, fake_slack.base_url).chat_postMessage(channel="C0A", text="x")
    assert _attempts("ratelimited") == before + 2


async def test_a_lasting_rate_limit_is_still_an_error(fake_slack: FakeSlack) -> None:
    fake_slack.outage("chat.postMessage", *[429] * (RATE_LIMIT_RETRIES + 1))
    with pytest.raises(SlackApiError) as raised:
        await web_client(BOT_TOKEN, fake_slack.base_url).chat_postMessage(channel="C0A", text="x")
    assert raised.value.response.status_code == 429
    assert len(fake_slack.calls_to("chat.postMessage")) == RATE_LIMIT_RETRIES + 1


async def test_a_slack_error_answer_is_not_retried(fake_slack: FakeSlack) -> None:
    fake_slack.failures["chat.postMessage"] = "channel_not_found"
    with pytest.raises(SlackApiError):
        await web_client(BOT_TOKEN, fake_slack.base_url).chat_postMessage(channel="C0A", text="x")
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
