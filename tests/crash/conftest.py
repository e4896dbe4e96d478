"""Prints the kill matrix's table of outcomes after a session that ran it."""

from __future__ import annotations

import resource

import pytest

from tests.crash import report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not report.RESULTS:
        return
    terminalreporter.section("kill matrix: how each killed flow ended")
    for line in report.table(report.RESULTS):
        terminalreporter.write_line(line)
    # The processes' CPU: what the matrix costs a small machine, whatever else runs on it.
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    test, processes = (u.ru_utime + u.ru_stime for u in usage)
    line = f"CPU of the session: {test:.0f} s in pytest, {processes:.0f} s in its processes"
    terminalreporter.write_line(line)
