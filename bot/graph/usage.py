"""Rate-limit usage headers (X-App-Usage, X-Business-Use-Case-Usage, X-Ad-Account-Usage).

Values are percentages of the quota; Meta throttles at 100. `estimated_time_to_regain_access`
is in MINUTES, `reset_time_duration` in seconds (graph-api.md §2.4).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass

logger = logging.getLogger(__name__)

APP_USAGE = "x-app-usage"
BUC_USAGE = "x-business-use-case-usage"
AD_ACCOUNT_USAGE = "x-ad-account-usage"

# Above this share of any quota, callers should start spacing their calls.
SLOW_DOWN_PERCENT = 80.0
MAX_PAUSE_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class BusinessUsage:
    """One entry of X-Business-Use-Case-Usage (one business object, one use case)."""

    business_id: str
    type: str
    call_count: float
    total_cputime: float
    total_time: float
    regain_seconds: float

    @property
    def max_percent(self) -> float:
        """The highest of the three percentages."""
        return max(self.call_count, self.total_cputime, self.total_time)


@dataclass(frozen=True, slots=True)
class UsageReading:
    """One percentage one header reported, for metrics; `subject` (whose quota) is no label."""

    header: str
    use_case: str
    metric: str
    percent: float
    subject: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Everything the usage headers of one response said."""

    app_call_count: float = 0.0
    app_total_time: float = 0.0
    app_total_cputime: float = 0.0
    business: tuple[BusinessUsage, ...] = ()
    ad_account_percent: float = 0.0
    ad_account_reset_seconds: float = 0.0
    # The app and ad account headers that could be read: an absent or unreadable one reads
    # as 0 above, which must not be reported as "idle".
    present: frozenset[str] = frozenset()

    @property
    def max_percent(self) -> float:
        """The highest usage percentage across all headers."""
        values = [self.app_call_count, self.app_total_time, self.app_total_cputime]
        values += [b.max_percent for b in self.business]
        values.append(self.ad_account_percent)
        return max(values)

    @property
    def regain_seconds(self) -> float:
        """Meta's estimate of how long until a throttled quota is usable again (0 = now)."""
        waits = [b.regain_seconds for b in self.business]
        if self.ad_account_percent >= 100:
            waits.append(self.ad_account_reset_seconds)
        return max(waits, default=0.0)

    def readings(self) -> list[UsageReading]:
        """Each percentage the response's readable usage headers reported."""
        found: list[UsageReading] = []
        if APP_USAGE in self.present:
            found += [
                UsageReading(APP_USAGE, "", "call_count", self.app_call_count),
                UsageReading(APP_USAGE, "", "total_cputime", self.app_total_cputime),
                UsageReading(APP_USAGE, "", "total_time", self.app_total_time),
            ]
        for b in self.business:
            found += [
                UsageReading(BUC_USAGE, b.type, "call_count", b.call_count, b.business_id),
                UsageReading(BUC_USAGE, b.type, "total_cputime", b.total_cputime, b.business_id),
                UsageReading(BUC_USAGE, b.type, "total_time", b.total_time, b.business_id),
            ]
        if AD_ACCOUNT_USAGE in self.present:
            found.append(
                UsageReading(AD_ACCOUNT_USAGE, "", "acc_id_util_pct", self.ad_account_percent)
            )
        return found


def _number(value: object) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return 0.0
    return 0.0


def _json_object(headers: Mapping[str, str], name: str) -> dict[str, object]:
    raw = headers.get(name)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        logger.debug("ignoring unreadable %s header", name)
        return {}
    return value if isinstance(value, dict) else {}


def _business(raw: dict[str, object]) -> tuple[BusinessUsage, ...]:
    entries = []
    for business_id, items in raw.items():
        # Documented as an array per business; accept a lone object too.
        for item in items if isinstance(items, list) else [items]:
            if not isinstance(item, dict):
                continue
            entries.append(
                BusinessUsage(
                    business_id=str(business_id),
                    type=str(item.get("type", "")),
                    call_count=_number(item.get("call_count")),
                    total_cputime=_number(item.get("total_cputime")),
                    total_time=_number(item.get("total_time")),
                    regain_seconds=60.0 * _number(item.get("estimated_time_to_regain_access")),
                )
            )
    return tuple(entries)


def parse_usage(headers: Mapping[str, str]) -> Usage | None:
    """The usage a response reports, or None when it carries no usage header."""
    if not any(headers.get(name) for name in (APP_USAGE, BUC_USAGE, AD_ACCOUNT_USAGE)):
        return None
    app = _json_object(headers, APP_USAGE)
    account = _json_object(headers, AD_ACCOUNT_USAGE)
    present = frozenset(
        name for name, value in ((APP_USAGE, app), (AD_ACCOUNT_USAGE, account)) if value
    )
    return Usage(
        app_call_count=_number(app.get("call_count")),
        app_total_time=_number(app.get("total_time")),
        app_total_cputime=_number(app.get("total_cputime")),
        business=_business(_json_object(headers, BUC_USAGE)),
        ad_account_percent=_number(account.get("acc_id_util_pct")),
        ad_account_reset_seconds=_number(account.get("reset_time_duration")),
        present=present,
    )


def pause_for(
    usage: Usage | None,
    *,
    threshold: float = SLOW_DOWN_PERCENT,
    max_pause: float = MAX_PAUSE_SECONDS,
) -> float:
    """Seconds to wait before the next call: Meta's regain estimate, else scaled above threshold."""
    # 0 up to `threshold` percent, rising linearly to `max_pause` at 100%.
    if usage is None:
        return 0.0
    if usage.regain_seconds > 0:
        return usage.regain_seconds
    percent = usage.max_percent
    if percent <= threshold:
        return 0.0
    share = min(1.0, (percent - threshold) / max(100.0 - threshold, 1e-9))
    return share * max_pause
