"""A figure beside its target, a table of them, and the JSON the README quotes."""

from __future__ import annotations

import json
import platform
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path


@dataclass(frozen=True)
class Figure:
    """One measured value; `target` is a sentence such as "<= 250" (None: for information)."""

    benchmark: str
    name: str
    value: float
    unit: str
    target: str | None = None
    met: bool | None = None  # None when there is no target

    def row(self) -> str:
        """The figure as one table row."""
        mark = {True: "ok", False: "MISS", None: ""}[self.met]
        target = self.target or ""
        value = f"{self.value:>12.2f}"
        return f"{self.benchmark:<10} {self.name:<64} {value} {self.unit:<8} {target:<22} {mark}"


def at_most(benchmark: str, name: str, value: float, unit: str, limit: float) -> Figure:
    """A figure whose target is an upper bound."""
    return Figure(benchmark, name, value, unit, f"<= {limit:g} {unit}", value <= limit)


def at_least(benchmark: str, name: str, value: float, unit: str, floor: float) -> Figure:
    """A figure whose target is a lower bound."""
    return Figure(benchmark, name, value, unit, f">= {floor:g} {unit}", value >= floor)


def info(benchmark: str, name: str, value: float, unit: str) -> Figure:
    """A figure shown for context, without a target."""
    return Figure(benchmark, name, value, unit)


def median(values: Sequence[float]) -> float:
    """The median (of repeated runs)."""
    return float(statistics.median(values))


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which `fraction` of `values` fall (nearest rank)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


HEADER = f"{'benchmark':<10} {'figure':<64} {'value':>12} {'unit':<8} {'target':<22}"


def report(figures: Sequence[Figure], path: Path) -> int:
    """Print the table, write the JSON; the number of missed targets.

    The JSON keeps the figures of benchmarks not run this time, as they were recorded
    (`measured` says when each benchmark's figures were taken)."""
    print(HEADER)
    print("-" * len(HEADER))
    for figure in figures:
        print(figure.row())
    misses = [f for f in figures if f.met is False]
    print(f"\n{len(figures)} figures, {len(misses)} missed targets; JSON in {path}")
    now = datetime.now(UTC).isoformat(timespec="seconds")
    fresh = {f.benchmark for f in figures}
    earlier = json.loads(path.read_text()) if path.exists() else {}
    kept = [f for f in earlier.get("figures", []) if f["benchmark"] not in fresh]
    measured = {
        f["benchmark"]: earlier.get("measured", {}).get(f["benchmark"], earlier.get("when"))
        for f in kept
    }
    path.write_text(
        json.dumps(
            {
                "when": now,
                "machine": f"{platform.machine()}, {platform.python_version()}",
                "measured": measured | dict.fromkeys(sorted(fresh), now),
                "figures": kept + [asdict(f) for f in figures],
            },
            indent=2,
        )
        + "\n"
    )
    return len(misses)
