"""`python -m benchmarks.instrumented [--profile OUT] [--hold-jobs] -- ARGS...`: the
`pixelbot ARGS` command, instrumented for a diagnosis. Never the process whose figures are
the benchmark's own.

--profile OUT: cProfile on between SIGUSR1 and SIGUSR2 (which writes the statistics to
OUT, and the SQL statements run meanwhile, counted by text, beside it), so that a benchmark
profiles one round and not the start-up. It sees the event loop's thread only (not the
database drivers' threads) and slows what it sees by about half.

--hold-jobs: jobs are written before the ack as always, but never run (neither at once nor
by the orphan sweep): what is left is the cost of the durable write on the ack path.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import signal
import sys
from collections import Counter
from pathlib import Path
from types import FrameType

from sqlalchemy import event
from sqlalchemy.engine import Engine

from benchmarks.seeding import IN_LIST
from bot.cli import main as pixelbot
from bot.slack.work import SlackWork


class _Statements:
    """SQL statements executed by any engine of the process, by text, while counting."""

    def __init__(self) -> None:
        self.counting = False
        self.by_text: Counter[str] = Counter()
        event.listen(Engine, "before_cursor_execute", self._executed)

    def _executed(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        if self.counting:
            self.by_text[IN_LIST.sub("(…)", " ".join(statement.split()))[:160]] += 1

    def write(self, path: Path) -> None:
        lines = [f"{n}\t{text}" for text, n in self.by_text.most_common()]
        path.write_text("\n".join(lines) + "\n")


def _switches(out: Path) -> None:
    profile = cProfile.Profile()
    statements = _Statements()

    def on(_signum: int, _frame: FrameType | None) -> None:
        statements.counting = True
        profile.enable()

    def off(_signum: int, _frame: FrameType | None) -> None:
        profile.disable()
        statements.counting = False
        statements.write(sql_path(out))
        partial = out.with_name(out.name + ".partial")
        profile.dump_stats(partial)
        partial.replace(out)  # whole, or not there: the benchmark waits for it

    signal.signal(signal.SIGUSR1, on)
    signal.signal(signal.SIGUSR2, off)


def _hold_jobs() -> None:
    def start(_self: SlackWork, _job_id: int) -> None:
        return None

    async def sweep_orphans(_self: SlackWork) -> int:
        return 0

    SlackWork.start = start  # type: ignore[method-assign,assignment]
    SlackWork.sweep_orphans = sweep_orphans  # type: ignore[method-assign,assignment]


def sql_path(profile: Path) -> Path:
    """Where the statement counts of a profiled window go, beside the profile."""
    return profile.with_name(profile.name + ".sql.txt")


def print_profile(path: Path, label: str, count: int = 25) -> None:
    """Print the functions with the most time of their own, then pixelbot's own functions
    by cumulative time (for coroutines, cProfile counts each resumption: read the order)."""
    stats = pstats.Stats(str(path))
    print(f"  {label}: profile in {path}; own time, top {count}:")
    stats.sort_stats("tottime").print_stats(count)
    print(f"  {label}: cumulative time, pixelbot's own functions:")
    stats.sort_stats("cumulative").print_stats(r"/bot/", count)
    lines = sql_path(path).read_text().splitlines()
    total = sum(int(line.split("\t", 1)[0]) for line in lines)
    print(f"  {label}: {total} SQL statements; the most frequent:")
    for line in lines[:12]:
        print(f"    {line}")


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.instrumented")
    parser.add_argument("--profile", type=Path, help="write cProfile statistics here")
    parser.add_argument("--hold-jobs", action="store_true", help="write jobs, never run them")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-- then pixelbot's arguments")
    options = parser.parse_args()
    if options.profile is not None:
        _switches(options.profile)
    if options.hold_jobs:
        _hold_jobs()
    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    sys.argv = ["pixelbot", *args]
    pixelbot()


if __name__ == "__main__":
    main()
