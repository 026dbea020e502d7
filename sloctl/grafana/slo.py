"""SLO error budget: the selected SLOs (``$service`` x ``$slo``, multi-select, "All"), budget and
multiwindow burn rates on the recording rules and on sloctl's ``/metrics``. Opens on 28 days."""

from __future__ import annotations

from sloctl.core.recordings import (
    CURRENT_BURN_RATE,
    ERROR_BUDGET,
    OBJECTIVE,
    PERIOD_BUDGET_REMAINING,
    SLI_ERROR_PREFIX,
)
from sloctl.grafana import panels
from sloctl.grafana.datasources import prometheus_var
from sloctl.grafana.links import SLO_UID, TO_ALERTS, to_selected_services
from sloctl.grafana.model import Board, Json, Look, prom, query_var, table_merge
from sloctl.grafana.slo_common import BUDGET_STEPS, BURN_STEPS, add_calendar_month, period_sli

SEL = 'sloth_service=~"$service", sloth_slo=~"$slo"'
SLOCTL = 'service=~"$service", slo=~"$slo"'
ID = "{{sloth_id}}"


def _tiles(board: Board) -> None:
    to_service = to_selected_services()
    board.add(panels.stat("Objective", [prom(f"{OBJECTIVE}{{{SEL}}}", ID)],
                          Look(unit="percentunit", decimals=3)), 6, 4)
    board.add(panels.stat("SLI over the period", [prom(period_sli(SEL), ID)],
                          Look(unit="percentunit", decimals=3, links=[to_service])), 6, 4)
    board.add(panels.stat("Error budget remaining",
                          [prom(f"{PERIOD_BUDGET_REMAINING}{{{SEL}}}", ID)],
                          Look(unit="percentunit", steps=BUDGET_STEPS)), 6, 4)
    board.add(panels.stat("Current burn rate (5m)", [prom(f"{CURRENT_BURN_RATE}{{{SEL}}}", ID)],
                          Look(unit="short", decimals=2, steps=BURN_STEPS)), 6, 4)


def _windows(board: Board) -> None:
    windows = f'{{__name__=~"{SLI_ERROR_PREFIX}.+", {SEL}}}'
    burn = f"{windows} / on (sloth_id) group_left () {ERROR_BUDGET}{{{SEL}}}"
    legend = "{{sloth_id}} {{sloth_window}}"
    board.add(panels.timeseries(
        "Error budget remaining", [prom(f"{PERIOD_BUDGET_REMAINING}{{{SEL}}}", ID)],
        Look(unit="percentunit", steps=BUDGET_STEPS), threshold_lines=True,
    ))
    board.add(panels.timeseries(
        "Burn rate by window", [prom(burn, legend)],
        Look(unit="short", steps=BURN_STEPS,
             description="Page: 1h and 5m above 14.4, or 6h and 30m above 6. "
             "Ticket: 1d and 2h above 3, or 3d and 6h above 1."),
        threshold_lines=True,
    ))
    board.add(panels.timeseries(
        "Error ratio by window", [prom(windows, legend)],
        Look(unit="percentunit", links=[to_selected_services()]),
    ))
    board.add(panels.table(
        "Alerts of these SLOs", [prom(f"ALERTS{{{SEL}}}", instant=True, table=True)],
        Look(transformations=table_merge({"Value": "active"}), links=[TO_ALERTS]),
    ))


def _sloctl(board: Board) -> None:
    board.row("Computed by sloctl (/metrics)")
    board.add(panels.timeseries(
        "Burn rate by window (sloctl)",
        [prom(f"sloctl_slo_burn_rate{{{SLOCTL}}}", "{{slo_id}} {{window}}")],
        Look(unit="short", steps=BURN_STEPS), threshold_lines=True,
    ))
    board.add(panels.table(
        "Burn-rate rules (sloctl)",
        [prom(f"sloctl_slo_burn_rate_rule_firing{{{SLOCTL}}}", instant=True, table=True)],
        Look(transformations=table_merge({"Value": "firing"})),
    ))


def slo_detail() -> Json:
    """The SLOs selected by service and name (every one by default)."""
    variables = [
        prometheus_var(),
        query_var("service", "Service", f"label_values({OBJECTIVE}, sloth_service)", multi=True),
        query_var("slo", "SLO", f'label_values({OBJECTIVE}{{sloth_service=~"$service"}}, '
                  "sloth_slo)", multi=True),
    ]
    board = Board(
        SLO_UID,
        "sloctl / SLO error budget",
        "Error budget and multiwindow burn rates of the selected SLOs (recording rules).",
        time_from="now-28d",
        variables=variables,
    )
    _tiles(board)
    _windows(board)
    add_calendar_month(board, SEL)
    _sloctl(board)
    return board.json()
