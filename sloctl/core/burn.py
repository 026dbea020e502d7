"""Burn rates, multiwindow multi-burn-rate decisions and budget exhaustion (SRE workbook ch. 5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from sloctl.core.windows import DataState, WindowResult, window_name

# Windows with nothing to count: Prometheus' rule sees NaN (0/0) or no series and does not fire.
_QUIET = (DataState.NO_TRAFFIC, DataState.NO_DATA)


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


@dataclass(frozen=True)
class BurnRateTier:
    """A burn-rate alert as the share of the period's budget it lets burn in its long window.

    The factor follows the SLO period (Sloth, SRE workbook): ``share * period / long_window``,
    so each alert spends the same share of budget whatever the period; 30 days give the
    workbook's 14.4 / 6 / 3 / 1.
    """

    severity: Severity
    long_window: int
    short_window: int
    budget_share: float

    def factor(self, period: int) -> float:
        """The burn-rate factor for an SLO ``period`` in seconds (exact decimal arithmetic)."""
        if period <= 0:
            raise ValueError(f"an SLO period must be a positive number of seconds, got {period!r}")
        exact = Decimal(repr(self.budget_share)) * period / self.long_window
        return float(round(exact, 12))

    def rule(self, period: int) -> BurnRateRule:
        """This tier as a rule with the factor of ``period``."""
        return BurnRateRule(self.severity, self.long_window, self.short_window, self.factor(period))


# SRE workbook, ch. 5, table 5-8 plus the 1d/2h ticket pair of iteration 6: 2 % of the budget in
# 1h, 5 % in 6h, 10 % in 1d and 10 % in 3d. Kept as data.
BURN_RATE_TIERS: tuple[BurnRateTier, ...] = (
    BurnRateTier(Severity.PAGE, 3600, 300, 0.02),
    BurnRateTier(Severity.PAGE, 21600, 1800, 0.05),
    BurnRateTier(Severity.TICKET, 86400, 7200, 0.10),
    BurnRateTier(Severity.TICKET, 259200, 21600, 0.10),
)
THIRTY_DAYS = 30 * 86400


def burn_rate_rules(period: int, tiers: Sequence[BurnRateTier] = BURN_RATE_TIERS) -> tuple[
    BurnRateRule, ...
]:
    """The multiwindow rules of an SLO whose period is ``period`` seconds."""
    return tuple(tier.rule(period) for tier in tiers)


# The rules of a 30-day SLO: factors 14.4, 6, 3 and 1.
DEFAULT_BURN_RATE_RULES: tuple[BurnRateRule, ...] = burn_rate_rules(THIRTY_DAYS)


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
    rules: Sequence[BurnRateRule],
    by_window: Mapping[int, WindowResult],
    *,
    min_short_coverage: float = 0.0,
    min_long_coverage: float = 0.0,
) -> tuple[BurnRateDecision, ...]:
    """Evaluate each rule: it fires when both its long and short burn rates are > its factor.

    The comparison is strict, like ``>`` in PromQL. A window without traffic or without series
    cannot fire (``firing=False`` with the reason), as the equivalent Prometheus rule sees NaN.
    When a window is missing from ``by_window`` or the backend could not answer, the decision is
    ``firing=None`` with a reason. A rule whose
    short (long) window has data for less than ``min_short_coverage`` (``min_long_coverage``) of
    its length is held back: ``firing=False`` with the reason (unknown coverage holds nothing).
    """
    return tuple(
        _decide_one(rule, by_window, min_short_coverage, min_long_coverage) for rule in rules
    )


def _decide_one(
    rule: BurnRateRule,
    by_window: Mapping[int, WindowResult],
    min_short_coverage: float,
    min_long_coverage: float,
) -> BurnRateDecision:
    long_result = by_window.get(rule.long_window)
    short_result = by_window.get(rule.short_window)
    long_burn = None if long_result is None else long_result.burn_rate
    short_burn = None if short_result is None else short_result.burn_rate
    problems = [
        _unknown_reason(window, result)
        for window, result in ((rule.long_window, long_result), (rule.short_window, short_result))
        if result is None or result.burn_rate is None
    ]
    quiet = [
        f"{window_name(window)}: {result.reason or result.state.value}"
        for window, result in ((rule.short_window, short_result), (rule.long_window, long_result))
        if result is not None and result.state in _QUIET
    ]
    if quiet:
        return BurnRateDecision(rule, long_burn, short_burn, False, "; ".join(quiet))
    if long_burn is None or short_burn is None:
        return BurnRateDecision(rule, long_burn, short_burn, None, "; ".join(problems))
    held = [
        coverage_shortfall(window, result.coverage, minimum)
        for window, result, minimum in (
            (rule.short_window, short_result, min_short_coverage),
            (rule.long_window, long_result, min_long_coverage),
        )
        if result is not None and result.coverage is not None and result.coverage < minimum
    ]
    if held:
        return BurnRateDecision(rule, long_burn, short_burn, False, "; ".join(held))
    firing = long_burn > rule.factor and short_burn > rule.factor
    return BurnRateDecision(rule, long_burn, short_burn, firing)


def coverage_shortfall(window: int, coverage: float, minimum: float) -> str:
    """Why a rule on ``window`` is held back: its data covers less than ``minimum``."""
    return (
        f"held back: the {window_name(window)} window has data for {coverage:.0%} of its length "
        f"(minimum {minimum:.0%})"
    )


def _unknown_reason(window: int, result: WindowResult | None) -> str:
    name = window_name(window)
    if result is None:
        return f"no result for the {name} window"
    return f"{name} burn rate unknown: {result.reason or 'no data'}"
