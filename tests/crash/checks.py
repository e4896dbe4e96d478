"""What a crash case must come to: consistent with Meta, the write at Meta at most once, the
work ended, one approval card, and each person told the end once (never silence, never twice,
never an end that is not the one reached).

A message "tells" the state it announces; a resumed job's note about work still in flight
tells nothing yet. For a decision the approver's own view is the card they clicked: it counts
when no message told them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tests.crash.flows import FLOWS

# (message pattern, the state it announces: None = not an end); the first match wins.
_ANNOUNCES: tuple[tuple[str, str | None], ...] = (
    (r"Being (sent to Meta|approved|declined|cancelled|removed)", None),
    (r"still shared with", "active"),
    (r"interrupted before it reached Meta", "pending"),
    (r"already has request #\d+ to business \d+ \(pending\)", "pending"),
    (r"Meta refused", "failed"),
    (r"Waiting for an admin|Meta opened request", "pending"),
    (r"[Aa]pproved by|now shared with|Shared at once", "active"),
    (r"Access removed|Removed the access|has no access to it at Meta now", "revoked"),
    (r"Linked 1 |already linked 1 ", "linked"),
)
# What each flow's end may be after a kill at each point. A write that never reached Meta may
# be given up (its user told) or done once after all.
_ENDS = {
    "share": {"before-job-row": {"-"}, "after-ack": {"failed", "pending"}, "*": {"pending"}},
    "decide": {"before-job-row": {"pending"}, "after-ack": {"pending", "active"}, "*": {"active"}},
    "unshare": {"before-job-row": {"active"}, "after-ack": {"active", "revoked"}, "*": {"revoked"}},
    "link": {"before-job-row": {"not linked"}, "*": {"linked"}},
}
# Our row's state for what Meta shows ("nothing": Meta has no trace of a share).
_AT_META = {"-": "nothing", "failed": "nothing"}
# Slack took the very same post twice. No kill point lets a post through that a later process
# could repeat (held posts are dropped), so this is test_sync_lease.py's fault 1.
DUPLICATED = "the same post delivered twice (one lease owner per process)"
# The requester's DM held back while the job ran, and the job's "due again" mark cleared by a
# sync that leased the row meanwhile: test_sync_lease.py's fault 2.
MARK_LOST = "the requester was never told (the job's end mark was cleared)"
INTERMITTENT = (DUPLICATED, MARK_LOST)


class KnownBug(AssertionError):
    """A case failed the way a known bug makes it fail (see the test's xfail reason)."""


@dataclass(frozen=True)
class Seen:
    """A post one of the flow's people saw: `party` is actor, requester or card."""

    party: str
    where: str  # reply (the response_url), DM, card posted, card edited, thread
    text: str

    @property
    def announces(self) -> str | None:
        """The state this post tells; None when it tells no end."""
        for pattern, state in _ANNOUNCES:
            if re.search(pattern, self.text):
                return state
        return None


def ends(flow: str, point: str) -> set[str]:
    """The ends a flow may reach after a kill at `point`."""
    table = _ENDS[flow]
    return table.get(point, table["*"])


def problems(
    flow: str,
    point: str,
    final: str,
    at_meta: str,
    meta_writes: int,
    jobs: list[tuple[str, bool | None]],
    seen: list[Seen],
    held_back: bool = False,
) -> list[str]:
    """Everything wrong with a flow's end (empty: it ended consistent and told).

    `held_back`: the request's row still owes its requester the end, nothing is due, and the
    job under test moved it last (fault 2's footprint)."""
    found = []
    once = [s for i, s in enumerate(seen) if s.where == "card edited" or s not in seen[:i]]
    if len(once) < len(seen):
        found.append(f"{DUPLICATED}: {[s for s in seen if s not in once or seen.count(s) > 1]}")
    seen = once
    if meta_writes > 1:
        found.append(f"the Graph write reached Meta {meta_writes} times")
    if _AT_META.get(final, final) != at_meta:
        found.append(f"the database says {final}, Meta says {at_meta}")
    if final not in ends(flow, point):
        found.append(f"ended {final}, expected one of {sorted(ends(flow, point))}")
    unfinished = [status for status, told in jobs if status != "done" and not told]
    if unfinished:
        found.append(f"job not done (nor given up with its user told): {unfinished}")
    # The card is posted once, when the request goes pending: by the share, not the decision.
    card_wanted = int(flow == "share" and final == "pending")
    cards = sum(s.where == "card posted" for s in seen)
    if FLOWS[flow].channel is not None and cards != card_wanted:
        found.append(f"{cards} approval cards posted after the click, expected {card_wanted}")
    if point == "before-job-row":
        if jobs or seen:
            found.append(f"work happened though Slack never had an ack: {jobs} {seen}")
        return found
    return found + _told(flow, final, seen, held_back)


def _told(flow: str, final: str, seen: list[Seen], held_back: bool) -> list[str]:
    found = []
    wrong = [s for s in seen if s.announces not in (None, final)]
    if wrong:
        found.append(f"told an end that is not the end ({final}): {wrong}")
    spec = FLOWS[flow]
    actor = [s for s in seen if s.party == "actor" and s.announces is not None]
    card = any(s.party == "card" and s.announces == final for s in seen)
    if len(actor) > 1:
        found.append(f"the actor was told the end {len(actor)} times: {actor}")
    if not actor and not (spec.channel is not None and card):
        found.append(f"the actor was never told the end ({final})")
    if spec.requester != spec.actor:
        heard = [s for s in seen if s.party == "requester" and s.announces is not None]
        wanted = int(final != spec.requester_knew)
        if wanted and not heard and held_back:
            found.append(MARK_LOST)
        elif len(heard) != wanted:
            found.append(f"the requester was told the end {len(heard)} times, not {wanted}")
    return found
