"""SLO overview: every SLO of the selected services, objective, SLI, budget remaining, burn rate
and firing alerts, on the recording rules and on sloctl's ``/metrics``. Opens on 28 days."""

from __future__ import annotations

from sloctl.core.recordings import CURRENT_BURN_RATE, OBJECTIVE, PERIOD_BUDGET_REMAINING
from sloctl.grafana import panels
from sloctl.grafana.datasources import prometheus_var
from sloctl.grafana.links import (
    OVERVIEW_UID,
    TO_ALERTS,
    TO_SLO_ROW,
    TO_SLO_SERIES,
    to_service,
)
from sloctl.grafana.model import Board, Json, Look, prom, query_var, table_merge, thresholds
from sloctl.grafana.slo_common import (
    BUDGET_STEPS,
    BURN_STEPS,
    SLO_KEYS,
    add_calendar_month,
    period_sli,
)

SLOS = 'sloth_service=~"$service"'
FIRING = 'ALERTS{alertstate="firing", service=~"$service"}'
SLOCTL = 'service=~"$service"'


def _tiles(board: Board) -> None:
    board.add(panels.stat("SLOs", [prom(f"count({OBJECTIVE}{{{SLOS}}})", "SLOs", instant=True)]),
              6, 4)
    board.add(panels.count_tile("Firing alerts", f"count({FIRING}) or vector(0)", "firing",
                                look=Look(links=[TO_ALERTS])), 6, 4)
    board.add(panels.count_tile(
        "SLOs out of budget", f"count({PERIOD_BUDGET_REMAINING}{{{SLOS}}} < 0) or vector(0)",
        "exhausted"), 6, 4)
    board.add(panels.stat(
        "Breaching (sloctl)",
        [prom(f"sum(sloctl_slo_breaching{{{SLOCTL}}})", "breaching", instant=True)],
        Look(steps=thresholds(("green", None), ("red", 1)),
             description="SLOs whose SLI is below the objective in sloctl's evaluation."),
    ), 6, 4)


def _slo_table(board: Board) -> None:
    by_slo = [
        f"max by ({SLO_KEYS}) ({OBJECTIVE}{{{SLOS}}})",
        period_sli(SLOS),
        f"max by ({SLO_KEYS}) ({PERIOD_BUDGET_REMAINING}{{{SLOS}}})",
        f"max by ({SLO_KEYS}) ({CURRENT_BURN_RATE}{{{SLOS}}})",
        f'count by ({SLO_KEYS}) (ALERTS{{alertstate="firing", {SLOS}}})',
    ]
    renames = {
        "Value #A": "Objective",
        "Value #B": "SLI (period)",
        "Value #C": "Budget remaining",
        "Value #D": "Burn rate (5m)",
        "Value #E": "Firing alerts",
    }
    board.add(panels.table(
        "SLOs", [prom(e, instant=True, table=True) for e in by_slo],
        Look(unit="percentunit", decimals=3, links=[TO_SLO_ROW, to_service("sloth_service")],
             transformations=table_merge(renames),
             description="Click a row for the SLO's error budget and burn rates."),
    ), 24, 9)


def _budgets(board: Board) -> None:
    remaining = f"{PERIOD_BUDGET_REMAINING}{{{SLOS}}}"
    board.add(panels.bargauge(
        "Error budget remaining", [prom(remaining, "{{sloth_id}}", instant=True)],
        Look(unit="percentunit", steps=BUDGET_STEPS, max=1, links=[TO_SLO_SERIES]),
        gradient=True,
    ), 12, 10)
    board.add(panels.timeseries(
        "Current burn rate (5m)", [prom(f"{CURRENT_BURN_RATE}{{{SLOS}}}", "{{sloth_id}}")],
        Look(unit="short", steps=BURN_STEPS, links=[TO_SLO_SERIES],
             description="1 spends the budget exactly over the period; 14.4 pages."),
        threshold_lines=True,
    ), 12, 10)
    board.add(panels.timeseries(
        "Error budget remaining over time", [prom(remaining, "{{sloth_id}}")],
        Look(unit="percentunit", steps=BUDGET_STEPS, links=[TO_SLO_SERIES]),
    ), 12, 8)
    board.add(panels.table(
        "Firing alerts (Prometheus)", [prom(FIRING, instant=True, table=True)],
        Look(links=[TO_SLO_ROW, to_service("service"), TO_ALERTS],
             transformations=table_merge({"Value": "active"})),
    ), 12, 8)


def _sloctl(board: Board) -> None:
    board.row("Computed by sloctl (/metrics)")
    keys = "slo_id, service, slo"
    exprs = [f"max by ({keys}) ({m}{{{SLOCTL}}})" for m in
             ("sloctl_slo_objective", "sloctl_slo_error_budget_remaining", "sloctl_slo_breaching")]
    renames = {"Value #A": "Objective", "Value #B": "Budget remaining", "Value #C": "Breaching"}
    board.add(panels.table(
        "SLOs as sloctl sees them", [prom(e, instant=True, table=True) for e in exprs],
        Look(unit="percentunit", decimals=3, transformations=table_merge(renames)),
    ))
    board.add(panels.timeseries(
        "Budget remaining (sloctl)",
        [prom(f"sloctl_slo_error_budget_remaining{{{SLOCTL}}}", "{{slo_id}}")],
        Look(unit="percentunit", steps=BUDGET_STEPS),
    ))


def slo_overview() -> Json:
    """Every SLO of the selected services (all by default)."""
    service = query_var("service", "Service", f"label_values({OBJECTIVE}, sloth_service)",
                        multi=True)
    board = Board(
        OVERVIEW_UID,
        "sloctl / SLO overview",
        "All SLOs: objective, SLI, error budget remaining, burn rate, firing alerts.",
        time_from="now-28d",
        variables=[prometheus_var(), service],
    )
    _tiles(board)
    _slo_table(board)
    _budgets(board)
    add_calendar_month(board, SLOS)
    _sloctl(board)
    return board.json()
