"""Run the benchmarks and print each figure beside its target (`./dev bench [NAME ...]`)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
from pathlib import Path

from benchmarks.figures import Figure, report

# Each module has `async def run(quick: bool) -> list[Figure]`.
SUITE = ("ack", "bulk_link", "reconcile", "views", "delivery")


async def _run(names: list[str], quick: bool) -> list[Figure]:
    figures: list[Figure] = []
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"running {name}…", flush=True)
        figures += await module.run(quick)
    return figures


def main() -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="./dev bench", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"which of {', '.join(SUITE)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results.json"))
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(SUITE))
    if unknown:
        parser.error(f"unknown benchmark {unknown[0]!r}; choose from {', '.join(SUITE)}")
    figures = asyncio.run(_run(list(args.names) or list(SUITE), args.quick))
    raise SystemExit(1 if report(figures, args.out) else 0)


if __name__ == "__main__":
    main()
