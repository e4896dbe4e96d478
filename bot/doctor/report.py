"""What the doctor reports: one `Check` per finding, and the businesses it looks at."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """One finding: what was checked, whether it is fine, what was seen, and how to fix it."""

    name: str
    ok: bool
    detail: str
    hint: str | None = None

    def line(self) -> str:
        """The finding as one line of the report."""
        if self.ok:
            return f"ok    {self.name}: {self.detail}"
        fix = f" — fix: {self.hint}" if self.hint else ""
        return f"FAIL  {self.name}: {self.detail}{fix}"


@dataclass(frozen=True)
class Registered:
    """A registered business as the doctor needs it (the token still sealed)."""

    business_id: str
    name: str
    channel: str | None
    ciphertext: bytes
    fingerprint: str
    admins: int

    @property
    def label(self) -> str:
        """Name and id, as operators know it."""
        return f"{self.name} ({self.business_id})"

    def re_add(self, extra: str = "") -> str:
        """The command that stores a new token for this business."""
        name = shlex.quote(self.name)
        add = f"pixelbot business add {self.business_id} --name {name}{extra}"
        return f"`{add} --token-stdin --replace`"


def summary(checks: Sequence[Check]) -> str:
    """The report's last line."""
    failed = sum(not c.ok for c in checks)
    if failed:
        return f"{failed} of {len(checks)} checks failed"
    return f"all {len(checks)} checks passed"
