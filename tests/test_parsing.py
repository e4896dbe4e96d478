"""The `/pixel` grammar of product.md, parsed into typed commands or a specific error."""

from __future__ import annotations

import pytest

from bot.flows.tasks import Task
from bot.slack import parsing
from bot.slack.blocks import help_message, in_sandbox, usage_message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", parsing.Help()),
        ("help", parsing.Help()),
        ("  HELP  ", parsing.Help()),
        ("share", parsing.Share()),
        ("share 111 222", parsing.Share("111", "222", (Task.ANALYZE,))),
        ("share 111 222 analyze,Upload", parsing.Share("111", "222", (Task.ANALYZE, Task.UPLOAD))),
        (
            "share 111 222 ADVERTISE, ANALYZE edit",
            parsing.Share("111", "222", (Task.ADVERTISE, Task.ANALYZE, Task.EDIT)),
        ),
        ("share 111 222 upload upload", parsing.Share("111", "222", (Task.UPLOAD,))),
        ("unshare 111 222", parsing.Unshare("111", "222")),
        ("link 111 222 act_333 444", parsing.Link("111", "222", ("333", "444"))),
        ("link 111 222 ACT_333 333", parsing.Link("111", "222", ("333",))),
        ("unlink 111 222 act_333", parsing.Unlink("111", "222", "333")),
        ("accounts 111 222", parsing.Accounts("111", "222")),
        ("info 111", parsing.Info("111")),
        ("pending", parsing.Pending()),
        ("history", parsing.History()),
        ("history 111", parsing.History("111")),
    ],
)
def test_valid_commands(text: str, expected: parsing.Command) -> None:
    assert parsing.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "problem", "subcommand"),
    [
        ("frobnicate", "unknown subcommand 'frobnicate'", None),
        ("share 111", "AGENCY_BUSINESS_ID is missing", "share"),
        ("share abc 222", "PIXEL_ID must be a number", "share"),
        ("share 111 222 VIEW", "unknown task 'VIEW'", "share"),
        ("share 111 ../me", "AGENCY_BUSINESS_ID must be a number", "share"),
        ("unshare 111", "AGENCY_BUSINESS_ID is missing", "unshare"),
        ("unshare 111 222 333", "unexpected '333'", "unshare"),
        ("link 111 222", "AD_ACCOUNT_ID is missing", "link"),
        ("link 111 222 act_x1", "AD_ACCOUNT_ID must be a number", "link"),
        ("unlink 111 222 333 444", "unexpected '444'", "unlink"),
        ("info", "PIXEL_ID is missing", "info"),
        ("info 1?fields=x", "PIXEL_ID must be a number", "info"),
        ("pending now", "unexpected 'now'", "pending"),
        ("history 1 2", "unexpected '2'", "history"),
        ("help me", "unexpected 'me'", "help"),
    ],
)
def test_bad_commands_say_what_is_wrong(text: str, problem: str, subcommand: str | None) -> None:
    with pytest.raises(parsing.UsageError) as caught:
        parsing.parse(text)
    assert problem in str(caught.value)
    assert caught.value.subcommand == subcommand


def test_too_many_accounts_are_refused() -> None:
    accounts = " ".join(str(n) for n in range(1, 502))
    with pytest.raises(parsing.UsageError, match="at most 500"):
        parsing.parse(f"link 1 2 {accounts}")


def test_usage_message_escapes_user_text() -> None:
    message = usage_message("unknown subcommand '<!channel>'", None)
    assert "<!channel>" not in message.text
    assert "&lt;!channel&gt;" in message.text


def test_help_lists_every_subcommand_and_task() -> None:
    rendered = str(help_message().as_kwargs())
    for usage in parsing.USAGE.values():
        assert usage in rendered
    for task in Task:
        assert task.value in rendered
    assert "Sandbox mode" not in rendered
    assert "Sandbox mode" in str(in_sandbox(help_message(), sandbox=True).as_kwargs())
