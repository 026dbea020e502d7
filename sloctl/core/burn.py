"""Burn rates, multiwindow multi-burn-rate decisions and budget exhaustion (SRE workbook ch. 5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sloctl.core.windows import WindowResult, window_name


class Severity(StrEnum):
    PAGE = "page"
    TICKET = "ticket"


@dataclass(frozen=True)
class BurnRateRule:
    """One row of the multiwindow multi-burn-rate table: fire when both windows burn > factor."""

    severity: Severity
    long_window: int
    short_window: int
    factor: float


# SRE workbook, ch. 5, table 5-8 plus the 1d/2h ticket pair of iteration 6. Kept as data.
DEFAULT_BURN_RATE_RULES: tuple[BurnRateRule, ...] = (
    BurnRateRule(Severity.PAGE, 3600, 300, 14.4),
    BurnRateRule(Severity.PAGE, 21600, 1800, 6.0),
    BurnRateRule(Severity.TICKET, 86400, 7200, 3.0),
    BurnRateRule(Severity.TICKET, 259200, 21600, 1.0),
)


@dataclass(frozen=True)
class BurnRateDecision:
    """Outcome of one multiwindow burn-rate rule for one SLO."""

    rule: BurnRateRule
    long_burn: float | None
    short_burn: float | None
    firing: bool | None  # None when either window is unknown
    reason: str | None = None


def error_budget(objective: float) -> float:
    """``1 - objective``, rounded to 12 decimals so 0.995 gives 0.005 and not 0.0050000000000000044.

    Raises ValueError unless ``0 < objective < 1`` (a ratio such as 0.995, not a percentage).
    """
    if not 0 < objective < 1:
        raise ValueError(
            f"objective must be a ratio strictly between 0 and 1 (e.g. 0.995 for 99.5 %), "
            f"got {objective!r}"
        )
    return round(1.0 - objective, 12)


def burn_rate(error_ratio: float, error_budget: float) -> float:
    """How fast the budget burns: ``error_ratio / error_budget`` (1 spends it exactly in a period).

    Raises ValueError when ``error_budget`` is not > 0 (an objective of 100 % has no budget).
    """
    if not error_budget > 0:
        raise ValueError(
            f"error budget must be > 0 to compute a burn rate, got {error_budget!r}; "
            "use an objective below 100 %"
        )
    return error_ratio / error_budget


def budget_consumed(burn_rate: float, window: int, period: int) -> float:
    """Share of the period's budget spent in ``window`` at ``burn_rate``: ``BR * w / T``."""
    return burn_rate * window / period


def exhaustion_time(
    at: datetime, budget_remaining: float | None, period: int, burn_rate: float | None
) -> datetime | None:
    """When the remaining budget runs out if the burn rate stays constant.

    A remaining share ``R`` lasts ``R * period / burn_rate`` seconds. Returns ``at`` when the
    budget is already spent (``R <= 0``), and ``None`` when ``R`` or the burn rate is unknown or
    the budget is not burning (burn rate <= 0).
    """
    if budget_remaining is None:
        return None
    if budget_remaining <= 0:
        return at
    if burn_rate is None or not burn_rate > 0:
        return None
    return at + timedelta(seconds=budget_remaining * period / burn_rate)


def decide(
    rules: Sequence[BurnRateRule], by_window: Mapping[int, WindowResult]
) -> tuple[BurnRateDecision, ...]:
    """Evaluate each rule: it fires when both its long and short burn rates are > its factor.

    The comparison is strict, like ``>`` in PromQL. When a window is missing from ``by_window``
    or its burn rate is unknown, the decision is ``firing=None`` with a reason.
    """
    return tuple(_decide_one(rule, by_window) for rule in rules)


def _decide_one(rule: BurnRateRule, by_window: Mapping[int, WindowResult]) -> BurnRateDecision:
    long_result = by_window.get(rule.long_window)
    short_result = by_window.get(rule.short_window)
    long_burn = None if long_result is None else long_result.burn_rate
    short_burn = None if short_result is None else short_result.burn_rate
    problems = [
        _unknown_reason(window, result)
        for window, result in ((rule.long_window, long_result), (rule.short_window, short_result))
        if result is None or result.burn_rate is None
    ]
    if long_burn is None or short_burn is None:
        return BurnRateDecision(rule, long_burn, short_burn, None, "; ".join(problems))
    firing = long_burn > rule.factor and short_burn > rule.factor
    return BurnRateDecision(rule, long_burn, short_burn, firing)


def _unknown_reason(window: int, result: WindowResult | None) -> str:
    name = window_name(window)
    if result is None:
        return f"no result for the {name} window"
    return f"{name} burn rate unknown: {result.reason or 'no data'}"
