"""The DORA dashboard: the four keys, time to restore and rework rate of one scope, with level,
report year, house goal, sample sizes and their trend, from ``sloctl_dora_*`` on ``/metrics``.

``sloctl serve`` recomputes the scorecards every 5 minutes over the last 30 days; ``$scope`` is a
service/environment, a team or the organisation.
"""

from __future__ import annotations

from grafana_foundation_sdk.builders import table as table_sdk
from grafana_foundation_sdk.builders.dashboard import ThresholdsConfig
from grafana_foundation_sdk.models.dashboard import DataTransformerConfig

from sloctl.grafana import panels
from sloctl.grafana.datasources import prometheus_var
from sloctl.grafana.links import DORA_UID, to_service
from sloctl.grafana.model import Board, Json, Look, prom, query_var, table_merge, thresholds

SCOPE = 'scope="$scope"'
SERVICES = 'service!=""'

# (title, expr, unit, decimals, thresholds, description): the house goals as the red line.
TILES: tuple[tuple[str, str, str, int, ThresholdsConfig, str], ...] = (
    (
        "Deployment frequency",
        f"sloctl_dora_deployment_frequency_per_day{{{SCOPE}}}",
        "short",
        2,
        thresholds(("red", None), ("green", 3.0)),
        "Counted production deployments per day (house goal: 3 per service per day).",
    ),
    (
        "Lead time for changes (median)",
        f'sloctl_dora_lead_time_seconds{{{SCOPE}, quantile="0.5"}}',
        "s",
        0,
        thresholds(("green", None), ("red", 3600.0)),
        "Commit to production, median per commit (house goal: under 1 hour).",
    ),
    (
        "Change failure rate",
        f"sloctl_dora_change_failure_rate{{{SCOPE}}}",
        "percentunit",
        1,
        thresholds(("green", None), ("red", 0.03)),
        "Failed deployments / deployments, rollbacks excluded (house goal: under 3 %).",
    ),
    (
        "Failed deployment recovery (median)",
        f'sloctl_dora_failed_deployment_recovery_time_seconds{{{SCOPE}, quantile="0.5"}}',
        "s",
        0,
        thresholds(("green", None), ("red", 900.0)),
        "Failed deployment to recovery (house goal: under 15 minutes).",
    ),
    (
        "Time to restore (median)",
        f'sloctl_dora_time_to_restore_seconds{{{SCOPE}, quantile="0.5"}}',
        "s",
        0,
        thresholds(("green", None), ("red", 900.0)),
        "Incident start to end, attributed or not (house goal: under 15 minutes).",
    ),
    (
        "Rework rate (beta)",
        f"sloctl_dora_rework_rate{{{SCOPE}}}",
        "percentunit",
        1,
        thresholds(("green", None), ("orange", 0.1)),
        "Rollbacks, hotfixes and deployments made while failing / deployments.",
    ),
)


def _table(
    title: str, expr: str, renames: dict[str, str], description: str = ""
) -> table_sdk.Panel:
    keep_service = DataTransformerConfig(
        id_val="organize", options={"excludeByName": {"__name__": True, "service": False}}
    )
    return panels.table(
        title,
        [prom(expr, instant=True, table=True)],
        Look(transformations=[*table_merge(renames), keep_service], description=description),
    )


def _figures(board: Board) -> None:
    for title, expr, unit, decimals, steps, description in TILES:
        look = Look(unit=unit, decimals=decimals, steps=steps, description=description)
        board.add(panels.stat(title, [prom(expr, title, instant=True)], look), 4, 5)
    board.add(_table(
        "Levels ($scope)", f"sloctl_dora_level{{{SCOPE}}} == 1", {"Value": "current"},
        "The level in the bands of the report year shown; none with fewer than 5 deployments "
        "or no table for that year.",
    ), 8, 7)
    board.add(_table("House goal met ($scope)", f"sloctl_dora_house_goal_met{{{SCOPE}}}",
                     {"Value": "met (1) / missed (0)"}), 8, 7)
    board.add(_table(
        "Sample sizes ($scope)", f"sloctl_dora_sample_size{{{SCOPE}}}", {"Value": "n"},
        "Deployments, lead-time commits, recoveries or incidents behind each figure.",
    ), 8, 7)


def _trend(board: Board) -> None:
    board.row("Trend ($scope)")
    median = 'quantile="0.5"'
    series = [
        ("Deployments per day", "short",
         [(f"sloctl_dora_deployment_frequency_per_day{{{SCOPE}}}", "per day")]),
        ("Lead time for changes", "s",
         [(f"sloctl_dora_lead_time_seconds{{{SCOPE}}}", "p{{quantile}}")]),
        ("Change failure and rework rate", "percentunit",
         [(f"sloctl_dora_change_failure_rate{{{SCOPE}}}", "change failure"),
          (f"sloctl_dora_rework_rate{{{SCOPE}}}", "rework")]),
        ("Recovery and restore time (median)", "s",
         [(f"sloctl_dora_failed_deployment_recovery_time_seconds{{{SCOPE}, {median}}}",
           "failed deployment recovery"),
          (f"sloctl_dora_time_to_restore_seconds{{{SCOPE}, {median}}}", "time to restore")]),
    ]
    for title, unit, queries in series:
        board.add(panels.timeseries(title, [prom(e, legend) for e, legend in queries],
                                    Look(unit=unit)), 12, 7)


def _services(board: Board) -> None:
    board.row("Every service")
    board.add(panels.table(
        "Levels of every service",
        [prom(f"sloctl_dora_level{{{SERVICES}}} == 1", instant=True, table=True)],
        Look(links=[to_service("service")], transformations=table_merge({"Value": "current"}),
             description="Trend a service against itself; levels are not targets."),
    ), 16, 8)
    board.add(panels.text(
        "About these figures",
        "Computed by `sloctl serve` every 5 minutes over the last 30 days from the stored "
        "deployments and Alertmanager incidents (reference/dora.md, section E), the trend "
        "against the 30 days before. Details, reasons for missing levels and the data-quality "
        "counts: `sloctl dora` and the [scorecard](${scorecard}).",
    ), 8, 8)


def dora() -> Json:
    """One scope's DORA figures with levels, goals and samples; every service's levels.
    Opens on the 30 days the figures cover."""
    scope = query_var("scope", "Scope", "label_values(sloctl_dora_sample_size, scope)")
    board = Board(
        DORA_UID,
        "sloctl / DORA",
        "Deployment frequency, lead time, change failure rate, recovery, restore and rework.",
        time_from="now-30d",
        variables=[prometheus_var(), scope],
    )
    _figures(board)
    _trend(board)
    _services(board)
    return board.json()
