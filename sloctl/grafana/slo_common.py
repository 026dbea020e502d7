"""Queries and panels shared by the SLO dashboards: period SLI, thresholds, calendar months.

Prometheus rules cannot follow calendar months, so the period recordings of a calendar-month
SLO are a rolling 30 d. The calendar-month panels open on "this month so far" (``now/M``) and
average the 5m error ratio over ``$__range``, the elapsed part of the month, as sloctl's engine
reports those SLOs; they show only SLOs whose ``sloth_slo_info`` says ``calendar-month``.
"""

from __future__ import annotations

from sloctl.core.recordings import (
    CALENDAR_MONTH,
    ERROR_BUDGET,
    PERIOD_BUDGET_REMAINING,
    SLO_INFO,
    SLO_LABELS,
    SLOCTL_WINDOW,
)
from sloctl.grafana import panels
from sloctl.grafana.links import TO_SLO_SERIES
from sloctl.grafana.model import THIS_MONTH, Board, Look, prom, thresholds
from sloctl.rulegen.names import sli_metric

SLO_KEYS = ", ".join(SLO_LABELS)
BUDGET_STEPS = thresholds(("red", None), ("orange", 0.0), ("yellow", 0.25), ("green", 0.5))
BURN_STEPS = thresholds(("green", None), ("yellow", 1.0), ("orange", 6.0), ("red", 14.4))


def period_sli(selector: str) -> str:
    """SLI over the SLO period from the budget rules: 1 - (1 - remaining) x error budget."""
    return (
        f"1 - max by ({SLO_KEYS}) ((1 - {PERIOD_BUDGET_REMAINING}{{{selector}}})"
        f" * on (sloth_id) group_left () {ERROR_BUDGET}{{{selector}}})"
    )


def _calendar_only(expr: str, selector: str) -> str:
    info = f'{SLO_INFO}{{{selector}, {SLOCTL_WINDOW}="{CALENDAR_MONTH}"}}'
    return f"max by ({SLO_KEYS}) ({expr}) * on (sloth_id) group_left () {info}"


def month_error_ratio(selector: str) -> str:
    """Mean 5m error ratio over ``$__range`` (the panel's time range: this month so far)."""
    return f"avg_over_time({sli_metric(300)}{{{selector}}}[$__range])"


def month_budget_remaining(selector: str) -> str:
    budget = f"{ERROR_BUDGET}{{{selector}}}"
    spent = f"{month_error_ratio(selector)} / on (sloth_id) group_left () {budget}"
    return _calendar_only(f"1 - {spent}", selector)


def month_sli(selector: str) -> str:
    return _calendar_only(f"1 - {month_error_ratio(selector)}", selector)


def add_calendar_month(board: Board, selector: str) -> None:
    """A row of this calendar month's budget and SLI, for calendar-month SLOs."""
    board.row("Calendar-month SLOs: this month so far")
    note = (
        "SLOs whose window is a calendar month, over the month so far (the panel's time range, "
        "now/M). Their period recordings are a rolling 30 d: Prometheus rules cannot follow "
        "calendar months."
    )
    board.add(panels.bargauge(
        "Error budget remaining this month",
        [prom(month_budget_remaining(selector), "{{sloth_id}}", instant=True)],
        Look(unit="percentunit", steps=BUDGET_STEPS, max=1, links=[TO_SLO_SERIES],
             time_from=THIS_MONTH, description=note),
    ), 12, 6)
    board.add(panels.stat(
        "SLI this month",
        [prom(month_sli(selector), "{{sloth_id}}", instant=True)],
        Look(unit="percentunit", decimals=3, links=[TO_SLO_SERIES], time_from=THIS_MONTH,
             description=note),
    ), 12, 6)
