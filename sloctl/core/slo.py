"""SLI, error budget and SLO status of one SLO from its per-window event counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sloctl.core.burn import (
    BurnRateDecision,
    BurnRateRule,
    burn_rate,
    burn_rate_rules,
    decide,
    error_budget,
    exhaustion_time,
)
from sloctl.core.windows import DataState, WindowCounts, WindowResult, window_name


@dataclass(frozen=True)
class SLOStatus:
    """Everything computed for one SLO at one evaluation instant."""

    slo_id: str  # "<service>/<name>"
    service: str
    name: str
    objective: float  # ratio 0..1, e.g. 0.995
    period: int  # SLO window length in seconds (calendar month: its full length)
    period_elapsed: int  # seconds of the period covered by the SLO window query
    at: datetime
    sli: float | None  # over the SLO window
    error_budget: float  # 1 - objective
    budget_remaining: float | None  # share of the budget left, 1 - e(T)/EB (may go negative)
    budget_total_minutes: float  # EB * period in minutes
    budget_remaining_minutes: float | None
    budget_remaining_events: float | None  # EB * total(T) - bad(T)
    windows: tuple[WindowResult, ...]  # alert windows then the SLO window (last)
    decisions: tuple[BurnRateDecision, ...]
    exhaustion_at: datetime | None  # projected budget exhaustion at the current burn rate
    breaching: bool | None  # sli < objective over the SLO window
    reason: str | None = None  # why values are unknown, if they are

    def window(self, seconds: int) -> WindowResult | None:
        """The result for one window length, if computed."""
        return next((w for w in self.windows if w.window == seconds), None)

    @property
    def no_data(self) -> bool:
        """True when the SLO's selectors matched no series in any window: sloctl is blind."""
        return bool(self.windows) and all(w.state is DataState.NO_DATA for w in self.windows)


def window_result(counts: WindowCounts, error_budget: float) -> WindowResult:
    """SLI, error ratio and burn rate of one window.

    Unknown counts stay unknown with their reason; zero traffic is unknown ("no traffic in 5m"),
    never a fake 100 %. ``bad > total`` (counters read at slightly different instants) is clamped
    to ``total``, and a negative ``bad`` to 0.
    """
    name = window_name(counts.window)
    if counts.bad is None or counts.total is None:
        state = counts.state if counts.state not in (None, DataState.OK) else DataState.FAILED
        return _unknown(counts, counts.reason or f"no event counts for {name}", state)
    if counts.total < 0:
        return _unknown(counts, f"negative event total ({counts.total:g}) in {name}")
    if counts.total == 0:
        return _unknown(counts, f"no traffic in {name}", DataState.NO_TRAFFIC)
    bad = min(max(counts.bad, 0.0), counts.total)
    error_ratio = bad / counts.total
    return WindowResult(
        window=counts.window,
        sli=(counts.total - bad) / counts.total,
        error_ratio=error_ratio,
        burn_rate=burn_rate(error_ratio, error_budget),
        total=counts.total,
        bad=bad,
        coverage=counts.coverage,
        interpolated=counts.interpolated,
    )


def _unknown(
    counts: WindowCounts, reason: str, state: DataState = DataState.FAILED
) -> WindowResult:
    return WindowResult(
        window=counts.window,
        sli=None,
        error_ratio=None,
        burn_rate=None,
        total=counts.total,
        bad=counts.bad,
        coverage=counts.coverage,
        interpolated=counts.interpolated,
        reason=reason,
        state=state,
    )


def evaluate_slo(
    *,
    slo_id: str,
    service: str,
    name: str,
    objective: float,
    period: int,
    period_elapsed: int,
    at: datetime,
    counts: Sequence[WindowCounts],
    slo_window: int,
    rules: Sequence[BurnRateRule] | None = None,
    current_window: int = 3600,
    min_short_coverage: float = 0.0,
    min_long_coverage: float = 0.0,
) -> SLOStatus:
    """Everything about one SLO at ``at``: SLI, budget, burn rates, alert decisions, exhaustion.

    ``objective`` is a ratio (0.995). ``counts`` holds one entry per alert window plus the entry
    whose ``window == slo_window`` (the SLO window, possibly the elapsed part of a calendar
    period). A missing SLO-window entry makes the SLI and budget unknown. The exhaustion estimate
    uses the burn rate of ``current_window``. ``rules`` default to the burn-rate tiers with the
    factors of ``period``. A burn-rate rule cannot fire while its short (long) window has data for
    less than ``min_short_coverage`` (``min_long_coverage``) of its length. Raises ValueError for
    an objective outside (0, 1) or two entries for the same window.
    """
    budget = error_budget(objective)
    by_window: dict[int, WindowResult] = {}
    for entry in counts:
        if entry.window in by_window:
            raise ValueError(
                f"{slo_id}: two event counts for the {window_name(entry.window)} window; "
                "pass exactly one WindowCounts per window"
            )
        by_window[entry.window] = window_result(entry, budget)
    slo_result = by_window.get(slo_window) or _unknown(
        WindowCounts(slo_window, None, None),
        f"no event counts for the SLO window {window_name(slo_window)}",
    )
    by_window[slo_window] = slo_result
    alert_results = [by_window[w] for w in sorted(by_window) if w != slo_window]
    windows = (*alert_results, slo_result)

    remaining = None if slo_result.burn_rate is None else 1.0 - slo_result.burn_rate
    total_minutes = budget * period / 60
    remaining_events = None
    if slo_result.total is not None and slo_result.bad is not None and slo_result.sli is not None:
        remaining_events = budget * slo_result.total - slo_result.bad
    current = by_window.get(current_window)
    reasons = list(dict.fromkeys(w.reason for w in windows if w.sli is None and w.reason))
    return SLOStatus(
        slo_id=slo_id,
        service=service,
        name=name,
        objective=objective,
        period=period,
        period_elapsed=period_elapsed,
        at=at,
        sli=slo_result.sli,
        error_budget=budget,
        budget_remaining=remaining,
        budget_total_minutes=total_minutes,
        budget_remaining_minutes=None if remaining is None else remaining * total_minutes,
        budget_remaining_events=remaining_events,
        windows=windows,
        decisions=decide(
            burn_rate_rules(period) if rules is None else rules,
            by_window,
            min_short_coverage=min_short_coverage,
            min_long_coverage=min_long_coverage,
        ),
        exhaustion_at=exhaustion_time(
            at, remaining, period, None if current is None else current.burn_rate
        ),
        breaching=None if slo_result.sli is None else slo_result.sli < objective,
        reason="; ".join(reasons) or None,
    )
