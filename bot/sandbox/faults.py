"""Fault injection for the sandbox: latency, throttling, 5xx, timeouts, expiry, denials."""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast, get_args

FaultKind = Literal[
    "rate_limit",
    "transient",
    "timeout",
    "drop",
    "server_error",
    "token_expired",
    "permission",
    "batch_null",
]
KINDS: tuple[str, ...] = get_args(FaultKind)
_METHODS = ("GET", "POST", "DELETE")


@dataclass
class FaultRule:
    """One injected failure: what happens, to which calls (method, path regex, business), how often.

    `path` is searched in the path after the version, e.g. r"/agencies$". A rule fires on every
    `every`-th matching call, at most `times` times (None: without limit). For timeout, drop,
    server_error and batch_null, `takes_effect` says whether the call is applied before its
    answer is lost (the case that tests a client's "check before retrying a write").
    server_error answers HTTP `status` (5xx) with an empty body: no Graph error object, so the
    answer does not say whether the call was applied.
    """

    kind: FaultKind
    method: str | None = None
    path: str | None = None
    business_id: str | None = None
    token: str | None = field(default=None, repr=False)
    times: int | None = None
    every: int = 1
    code: int = 2
    status: int = 500
    hold_ms: int = 0
    regain_minutes: int = 5
    takes_effect: bool = True
    matched: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.method is not None and self.method.upper() not in _METHODS:
            raise ValueError(f"fault method must be one of {', '.join(_METHODS)}")
        if self.path is not None:
            try:
                re.compile(self.path)  # fail now, not on the first call
            except re.error as exc:
                raise ValueError(f"fault path is not a regular expression: {exc}") from None
        if self.every < 1 or (self.times is not None and self.times < 0):
            raise ValueError("fault `every` must be >= 1 and `times` >= 0")
        if self.hold_ms < 0 or self.regain_minutes < 0:
            raise ValueError("fault `hold_ms` and `regain_minutes` must be >= 0")
        if self.code not in (1, 2):
            raise ValueError("transient fault `code` must be 1 or 2")
        if not 500 <= self.status <= 599:
            raise ValueError("server_error fault `status` must be an HTTP 5xx status")

    def matches(self, method: str, path: str, business_id: str | None, token: str) -> bool:
        """Whether a call is targeted by this rule (before counting)."""
        return (
            (self.method is None or self.method.upper() == method)
            and (self.path is None or re.search(self.path, path) is not None)
            and (self.business_id is None or self.business_id == business_id)
            and (self.token is None or self.token == token)
        )

    def fire(self) -> bool:
        """Count one matching call; True when the fault applies to it."""
        if self.times is not None and self.fired >= self.times:
            return False
        self.matched += 1
        if self.matched % self.every:
            return False
        self.fired += 1
        return True

    def public(self) -> dict[str, Any]:
        """The rule as JSON, with any token masked."""
        data = asdict(self)
        data["token"] = None if self.token is None else "***"
        return data


@dataclass
class Faults:
    """Every fault setting of one sandbox; change it freely between calls of a test."""

    latency_ms: int = 0
    rate_limit_every: int = 0
    error_rate: float = 0.0
    seed: int | None = None
    rules: list[FaultRule] = field(default_factory=list)
    calls_seen: int = 0

    def __post_init__(self) -> None:
        if self.latency_ms < 0 or self.rate_limit_every < 0:
            raise ValueError("latency_ms and rate_limit_every must be >= 0")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"error_rate must be between 0 and 1, got {self.error_rate}")
        self._rng = random.Random(self.seed)  # noqa: S311 - fault dice, not security

    def add(self, kind: FaultKind, **options: Any) -> FaultRule:
        """Add a rule (see FaultRule for options) and return it, e.g. to read `fired`."""
        rule = FaultRule(kind, **options)
        self.rules.append(rule)
        return rule

    def rate_limit(self, times: int | None = 1, **options: Any) -> FaultRule:
        """Throttle (80004/2446079) the next `times` matching calls."""
        return self.add("rate_limit", times=times, **options)

    def transient(self, times: int | None = 1, **options: Any) -> FaultRule:
        """Fail the next `times` matching calls with code 2 (or `code=1`), HTTP 500."""
        return self.add("transient", times=times, **options)

    def timeout(self, hold_ms: int, times: int | None = 1, **options: Any) -> FaultRule:
        """Hold the answers of the next `times` matching calls for `hold_ms`."""
        return self.add("timeout", hold_ms=hold_ms, times=times, **options)

    def drop(self, hold_ms: int = 0, times: int | None = 1, **options: Any) -> FaultRule:
        """Hang up on the next `times` matching calls after `hold_ms`, with no answer."""
        return self.add("drop", hold_ms=hold_ms, times=times, **options)

    def server_error(self, times: int | None = 1, **options: Any) -> FaultRule:
        """Answer the next `times` matching calls HTTP 500 (or `status=`) with an empty body,
        applied first unless `takes_effect=False`."""
        return self.add("server_error", times=times, **options)

    def expire_token(self, times: int | None = None, **options: Any) -> FaultRule:
        """Answer 190/463 for a `business_id` or `token` (by default from now on)."""
        return self.add("token_expired", times=times, **options)

    def deny(self, path: str, times: int | None = None, **options: Any) -> FaultRule:
        """Answer 200 (permission) for calls whose path matches `path`."""
        return self.add("permission", path=path, times=times, **options)

    def null_in_batch(self, times: int | None = 1, **options: Any) -> FaultRule:
        """Answer `null` for the next `times` matching operations of a batch."""
        return self.add("batch_null", times=times, **options)

    def clear(self) -> None:
        """Remove every fault."""
        self.latency_ms, self.rate_limit_every, self.error_rate = 0, 0, 0.0
        self.rules.clear()

    def decide(
        self, method: str, path: str, business_id: str | None, token: str, *, in_batch: bool
    ) -> FaultRule | None:
        """The fault for one authenticated call, or None; counts the call for every rule."""
        chosen: FaultRule | None = None
        for rule in self.rules:
            if rule.kind == "batch_null" and not in_batch:
                continue
            if rule.matches(method, path, business_id, token) and rule.fire() and chosen is None:
                chosen = rule
        self.calls_seen += 1
        if (
            chosen is None
            and self.rate_limit_every
            and self.calls_seen % self.rate_limit_every == 0
        ):
            chosen = FaultRule("rate_limit")
        if chosen is None and self.error_rate and self._rng.random() < self.error_rate:
            chosen = FaultRule("transient")
        return chosen

    def public(self) -> dict[str, Any]:
        """The settings as JSON (tokens masked)."""
        return {
            "latency_ms": self.latency_ms,
            "rate_limit_every": self.rate_limit_every,
            "error_rate": self.error_rate,
            "seed": self.seed,
            "rules": [rule.public() for rule in self.rules],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Faults:
        """Faults from JSON (the control API); raises ValueError on bad input."""
        known = {"latency_ms", "rate_limit_every", "error_rate", "seed", "rules"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault setting {unknown[0]!r}")
        rules = []
        for raw in data.get("rules", []):
            if not isinstance(raw, dict) or "kind" not in raw:
                raise ValueError("each rule must be an object with a `kind`")
            options = {k: v for k, v in raw.items() if k not in ("matched", "fired")}
            try:
                rules.append(FaultRule(**options))
            except TypeError as exc:
                raise ValueError(f"bad fault rule: {exc}") from None
        return cls(
            latency_ms=int(data.get("latency_ms", 0)),
            rate_limit_every=int(data.get("rate_limit_every", 0)),
            error_rate=float(data.get("error_rate", 0.0)),
            seed=cast("int | None", data.get("seed")),
            rules=rules,
        )


def faults_from_cli(
    latency_ms: int = 0,
    rate_limit_every: int = 0,
    error_rate: float = 0.0,
    timeout_every: int = 0,
    timeout_ms: int = 30_000,
    seed: int | None = None,
) -> Faults:
    """Faults from `pixelbot sandbox` options; raises ValueError with a readable message."""
    faults = Faults(latency_ms, rate_limit_every, error_rate, seed)
    if timeout_every < 0:
        raise ValueError("timeout_every must be >= 0")
    if timeout_every:
        faults.timeout(timeout_ms, times=None, every=timeout_every)
    return faults
