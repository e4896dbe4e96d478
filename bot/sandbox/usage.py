"""Rate-limit accounting: per-business hourly call counts and Meta's usage headers."""

from __future__ import annotations

import json
import math
from collections import deque
from datetime import datetime, timedelta

_WINDOW = timedelta(hours=1)


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


class UsageMeter:
    """Counts calls per business over a sliding hour against an hourly budget."""

    def __init__(self) -> None:
        self._calls: dict[str, deque[datetime]] = {}
        self._app: deque[datetime] = deque()

    def reset(self) -> None:
        """Forget every call."""
        self._calls.clear()
        self._app.clear()

    def record(self, business_id: str | None, now: datetime) -> None:
        """Count one call (for the app, and for the token's business when known)."""
        self._app.append(now)
        if business_id is not None:
            self._calls.setdefault(business_id, deque()).append(now)

    def regain_minutes(self, business_id: str, budget: int, now: datetime) -> int | None:
        """Minutes until the business is under budget again, or None when it is now."""
        calls = self._window(self._calls.get(business_id, deque()), now)
        if len(calls) <= budget:
            return None
        # Once this call ages out, the next call is again within the budget.
        leaves_at = calls[len(calls) - budget] + _WINDOW
        return max(1, math.ceil((leaves_at - now).total_seconds() / 60))

    def headers(
        self,
        business_id: str | None,
        budget: int,
        businesses: int,
        now: datetime,
        throttled_minutes: int | None = None,
    ) -> list[tuple[str, str]]:
        """`X-App-Usage` and `X-Business-Use-Case-Usage` as Meta sends them (percentages)."""
        app_pct = len(self._window(self._app, now)) * 100 // (budget * max(1, businesses))
        # Simplification: time use grows at half the rate of the call count.
        app = {"call_count": app_pct, "total_time": app_pct // 2, "total_cputime": app_pct // 2}
        buc: dict[str, list[dict[str, object]]] = {}
        if business_id is not None:
            pct = len(self._window(self._calls.get(business_id, deque()), now)) * 100 // budget
            regain = throttled_minutes or self.regain_minutes(business_id, budget, now) or 0
            if throttled_minutes:
                pct = max(pct, 100)
            buc[business_id] = [
                {
                    "type": "ads_management",
                    "call_count": pct,
                    "total_cputime": pct // 2,
                    "total_time": pct // 2,
                    "estimated_time_to_regain_access": regain,
                    "ads_api_access_tier": "standard_access",
                }
            ]
        return [("x-app-usage", _compact(app)), ("x-business-use-case-usage", _compact(buc))]

    @staticmethod
    def _window(calls: deque[datetime], now: datetime) -> deque[datetime]:
        while calls and calls[0] <= now - _WINDOW:
            calls.popleft()
        return calls
