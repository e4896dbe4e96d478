"""The kill matrix's outcomes as a table (printed at the end of the session) and a failed
case described in full."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from tests.crash.checks import Seen

RESULTS: list[Any] = []  # every outcome the session ran (matrix.Outcome, extras.SlackFaults)

_LABELS = (
    (r"restarted while it worked", "resumed"),
    (r"interrupted before it reached Meta", "interrupted, may decide again"),
    (r"already has request", "refused: already open"),
    (r"was already approved", "'already approved, nothing changed'"),
    (r"no request on record", "'no request on record'"),
    (r"Meta refused.*never reached Meta", "'Meta refused: never reached Meta'"),
    (r"removal of .* never reached Meta", "removal never reached Meta, may remove again"),
    (r"Linked 0 · already linked 1", "already linked"),
)


def label(seen: Seen) -> str:
    """A post in a few words: who, where, what it told."""
    what = next((name for pattern, name in _LABELS if re.search(pattern, seen.text)), "")
    if seen.party == "card":
        return seen.where + (f" ({seen.announces})" if seen.announces else "")
    told = seen.announces or "in flight"
    return f"{seen.party} {seen.where}: {what + ' ' if what else ''}({told})"


def _told(outcome: Any) -> str:
    posts = [label(s) for s in outcome.seen if s.where != "thread"]
    if outcome.case.point == "before-job-row" and not posts:
        return "no ack: Slack shows its own error; nothing posted"
    return "; ".join(posts) or "nothing"


def _row(outcome: Any) -> tuple[str, ...]:
    if outcome.error is not None:
        return ("ERROR: " + str(outcome.error).splitlines()[0][:80],) + ("",) * 4
    writes = str(outcome.meta_writes)
    jobs = ", ".join(f"{status} ({claims} claims)" for status, _, claims in outcome.jobs)
    wrong = outcome.problems()
    verdict = "ok" if not wrong else "; ".join(w.split(":")[0] for w in wrong)
    return (f"{outcome.final} / {outcome.at_meta}", writes, jobs or "none", _told(outcome), verdict)


def table(results: list[Any]) -> list[str]:
    """One line per flow, point and order; backends merged when they agree."""
    rows: dict[tuple[str, str, str], dict[str, tuple[str, ...]]] = defaultdict(dict)
    lines = []
    for outcome in results:
        if hasattr(outcome, "case"):
            case = outcome.case
            rows[(case.flow, case.point, case.order)][case.backend] = _row(outcome)
        else:
            wrong = outcome.problems() if outcome.error is None else [str(outcome.error)]
            lines.append(f"slack faults ({outcome.backend}, {outcome.seconds:.0f} s): "
                         f"{outcome.refused} calls refused first; "
                         + ("ok" if not wrong else "; ".join(wrong)))  # fmt: skip
    columns = ("flow", "kill point", "order", "backend", "end (db / Meta)", "Meta writes")
    columns += ("job", "told", "verdict")
    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for (flow, point, order), by_backend in sorted(rows.items(), key=_position):
        distinct = set(by_backend.values())
        groups = (
            [(" + ".join(sorted(by_backend)), next(iter(distinct)))]
            if len(distinct) == 1
            else sorted(by_backend.items())
        )
        for backend, row in groups:
            shown = "-" if flow == "link" else order or "-"  # a link claims no request
            out.append("| " + " | ".join((flow, point, shown, backend, *row)) + " |")
    longest = max((r.seconds for r in results), default=0.0)
    return [*out, *lines, f"{len(results)} outcomes; the longest world took {longest:.0f} s"]


def _position(item: tuple[tuple[str, str, str], Any]) -> tuple[int, int, str]:
    from tests.crash.flows import FLOWS
    from tests.crash.kills import POINTS

    flow, point, order = item[0]
    flows, points = list(FLOWS), [*POINTS, "replica-killed"]
    return (flows.index(flow) if flow in flows else 9, points.index(point), order)


def describe(outcome: Any, wrong: list[str]) -> str:
    """A failed case in full: what is wrong, then everything observed."""
    seen = [f"{s.party} {s.where}: {s.text[:300]}" for s in outcome.seen]
    fields = {
        "final": outcome.final,
        "at_meta": outcome.at_meta,
        "meta_writes": outcome.meta_writes,
        "jobs": outcome.jobs,
        "seen": seen,
    }
    return f"{outcome.case.id}: {wrong}\n{json.dumps(fields, indent=1)}"
