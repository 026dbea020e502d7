"""Burn-rate factors follow the SLO period: ``budget share x period / long window``.

Tiers (SRE workbook): 2 % of the budget in 1h (short 5m), 5 % in 6h (30m), 10 % in 1d (2h),
10 % in 3d (6h). A calendar month uses 30 days, in the engine as in the generated rules.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from sloctl.core.burn import (
    BURN_RATE_TIERS,
    DEFAULT_BURN_RATE_RULES,
    THIRTY_DAYS,
    Severity,
    burn_rate_rules,
)
from sloctl.evaluation.assemble import burn_rules as engine_rules
from sloctl.evaluation.plan import plan_slo
from sloctl.rulegen import slo_rules
from sloctl.settings import Settings
from sloctl.sources import promql
from sloctl.spec.models import Matcher, MetricRatio, SLOSpec, Window

DAY = 86400
WINDOWS = [(3600, 300), (21600, 1800), (86400, 7200), (259200, 21600)]
SEVERITIES = [Severity.PAGE, Severity.PAGE, Severity.TICKET, Severity.TICKET]


@pytest.mark.parametrize(("days", "expected"), [
    # 0.02 x 7 x 24 = 3.36; 0.05 x 7 x 4 = 1.4; 0.1 x 7 = 0.7; 0.1 x 7 / 3 = 0.2333...
    (7, [3.36, 1.4, 0.7, 0.233333333333]),
    # 0.02 x 28 x 24 = 13.44; 0.05 x 28 x 4 = 5.6; 0.1 x 28 = 2.8; 0.1 x 28 / 3 = 0.9333...
    (28, [13.44, 5.6, 2.8, 0.933333333333]),
    # the workbook's table: 0.02 x 720 = 14.4; 0.05 x 120 = 6; 0.1 x 30 = 3; 0.1 x 10 = 1
    (30, [14.4, 6.0, 3.0, 1.0]),
    # 0.02 x 2160 = 43.2; 0.05 x 360 = 18; 0.1 x 90 = 9; 0.1 x 30 = 3
    (90, [43.2, 18.0, 9.0, 3.0]),
])
def test_factors_by_period(days: int, expected: list[float]) -> None:
    rules = burn_rate_rules(days * DAY)
    # exact decimals (rounded to 12 places), so 3.36 is 3.36 and not 3.3600000000000003
    assert [r.factor for r in rules] == expected
    assert [(r.long_window, r.short_window) for r in rules] == WINDOWS
    assert [r.severity for r in rules] == SEVERITIES
    for tier, rule in zip(BURN_RATE_TIERS, rules, strict=True):
        # each alert lets the same share of the budget burn in its long window, whatever the
        # period: factor x long window / period = share
        assert rule.factor * rule.long_window / (days * DAY) == pytest.approx(tier.budget_share)


def test_thirty_days_are_the_default_rules() -> None:
    assert burn_rate_rules(THIRTY_DAYS) == DEFAULT_BURN_RATE_RULES
    assert THIRTY_DAYS == 30 * DAY


@pytest.mark.parametrize("period", [0, -DAY])
def test_a_period_must_be_positive(period: int) -> None:
    with pytest.raises(ValueError, match=repr(period)):
        BURN_RATE_TIERS[0].factor(period)


def spec(window: Window, objective: float = 99.5) -> SLOSpec:
    return SLOSpec(
        service="order", name="availability", objective=objective, window=window,
        service_label="service_name",
        indicator=MetricRatio("http_requests_total", (), (Matcher("code", "=~", "5.."),)),
    )


CALENDAR = Window(None, "month")


@pytest.mark.parametrize(("at", "month_days"), [
    (datetime(2026, 1, 20, 12, tzinfo=UTC), 31),
    (datetime(2026, 2, 20, 12, tzinfo=UTC), 28),
    (datetime(2026, 4, 20, 12, tzinfo=UTC), 30),
])
def test_calendar_month_uses_thirty_days_in_the_engine(at: datetime, month_days: int) -> None:
    plan = plan_slo(spec(CALENDAR), at, ZoneInfo("UTC"))
    assert plan.period == month_days * DAY  # budget minutes use the real month
    assert plan.rule_period == THIRTY_DAYS
    assert [r.factor for r in engine_rules(plan)] == [14.4, 6.0, 3.0, 1.0]


def test_rolling_windows_use_their_own_period_in_the_engine() -> None:
    at = datetime(2026, 1, 20, 12, tzinfo=UTC)
    plan = plan_slo(spec(Window(7 * DAY)), at, ZoneInfo("UTC"))
    assert plan.rule_period == plan.period == 7 * DAY
    assert [r.factor for r in engine_rules(plan)] == [3.36, 1.4, 0.7, 0.233333333333]


@pytest.mark.parametrize(("window", "page", "ticket"), [
    (CALENDAR, ("14.4", "6"), ("3", "1")),
    (Window(28 * DAY), ("13.44", "5.6"), ("2.8", "0.933333333333")),
    (Window(90 * DAY), ("43.2", "18"), ("9", "3")),
])
def test_generated_rules_use_the_same_factors(
    window: Window, page: tuple[str, str], ticket: tuple[str, str]
) -> None:
    s = spec(window)
    settings = Settings()
    period = THIRTY_DAYS if window.is_calendar else window.seconds
    assert slo_rules.period_seconds(s) == period
    for severity, factors in ((Severity.PAGE, page), (Severity.TICKET, ticket)):
        assert [promql.number(r.factor) for r in slo_rules.burn_rules(s, severity)] == \
            list(factors)
        expr = slo_rules.burn_alert(s, severity, settings).expr
        for factor in factors:  # budget 0.5 %: "> (<factor> * 0.005)" on both windows
            assert expr.count(f"> ({factor} * 0.005)") == 2, expr
