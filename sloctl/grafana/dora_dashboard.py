"""The DORA dashboard: the four keys, time to restore and rework rate of one scope, with level,
report year, house goal, sample sizes and their trend, from ``sloctl_dora_*`` on ``/metrics``.

``sloctl serve`` recomputes the scorecards every 5 minutes over the last 30 days; ``$scope`` is a
service/environment, a team or the organisation.
"""

from __future__ import annotations

from sloctl.grafana.model import (
    Json,
    Layout,
    dashboard,
    data_link,
    panel,
    prom,
    query_var,
    row,
    stat_options,
    table_merge,
    text,
    thresholds,
)

DORA_UID = "sloctl-dora"
GOLDEN_UID = "sloctl-golden-signals"  # dashboards.GOLDEN_UID (that module imports this one)
SCOPE = 'scope="$scope"'
SERVICES = 'service!=""'

# (title, expr, unit, decimals, thresholds, description): the house goals as the red line.
TILES: tuple[tuple[str, str, str, int, Json, str], ...] = (
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

LINK_SERVICE = data_link(
    "Golden signals of ${__data.fields.service}",
    GOLDEN_UID,
    {"service": "${__data.fields.service}"},
)


def _table(title: str, expr: str, renames: dict[str, str], description: str = "") -> Json:
    return panel(
        "table",
        title,
        [prom(expr, instant=True, table=True)],
        transformations=[
            *table_merge(renames),
            {
                "id": "organize",
                "options": {"excludeByName": {"__name__": True, "service": False}},
            },
        ],
        description=description,
    )


def dora() -> Json:
    """One scope's DORA figures with levels, goals and samples; every service's levels."""
    layout = Layout()
    for title, expr, unit, decimals, steps, description in TILES:
        tile = panel(
            "stat",
            title,
            [prom(expr, title, instant=True)],
            unit=unit,
            decimals=decimals,
            steps=steps,
            options=stat_options(),
            description=description,
        )
        layout.add(tile, 4, 5)
    layout.extend(
        [
            (
                _table(
                    "Levels ($scope)",
                    f"sloctl_dora_level{{{SCOPE}}} == 1",
                    {"Value": "current"},
                    "The level in the bands of the report year shown; none with fewer than 5 "
                    "deployments or no table for that year.",
                ),
                8,
                7,
            ),
            (
                _table(
                    "House goal met ($scope)",
                    f"sloctl_dora_house_goal_met{{{SCOPE}}}",
                    {"Value": "met (1) / missed (0)"},
                ),
                8,
                7,
            ),
            (
                _table(
                    "Sample sizes ($scope)",
                    f"sloctl_dora_sample_size{{{SCOPE}}}",
                    {"Value": "n"},
                    "Deployments, lead-time commits, recoveries or incidents behind each figure.",
                ),
                8,
                7,
            ),
        ]
    )
    layout.add(row("Trend ($scope)"))
    layout.extend(
        [
            (
                panel(
                    "timeseries",
                    "Deployments per day",
                    [prom(f"sloctl_dora_deployment_frequency_per_day{{{SCOPE}}}", "per day")],
                    unit="short",
                ),
                12,
                7,
            ),
            (
                panel(
                    "timeseries",
                    "Lead time for changes",
                    [prom(f"sloctl_dora_lead_time_seconds{{{SCOPE}}}", "p{{quantile}}")],
                    unit="s",
                ),
                12,
                7,
            ),
            (
                panel(
                    "timeseries",
                    "Change failure and rework rate",
                    [
                        prom(f"sloctl_dora_change_failure_rate{{{SCOPE}}}", "change failure"),
                        prom(f"sloctl_dora_rework_rate{{{SCOPE}}}", "rework"),
                    ],
                    unit="percentunit",
                ),
                12,
                7,
            ),
            (
                panel(
                    "timeseries",
                    "Recovery and restore time (median)",
                    [
                        prom(
                            "sloctl_dora_failed_deployment_recovery_time_seconds"
                            f'{{{SCOPE}, quantile="0.5"}}',
                            "failed deployment recovery",
                        ),
                        prom(
                            f'sloctl_dora_time_to_restore_seconds{{{SCOPE}, quantile="0.5"}}',
                            "time to restore",
                        ),
                    ],
                    unit="s",
                ),
                12,
                7,
            ),
        ]
    )
    layout.add(row("Every service"))
    layout.extend(
        [
            (
                panel(
                    "table",
                    "Levels of every service",
                    [prom(f"sloctl_dora_level{{{SERVICES}}} == 1", instant=True, table=True)],
                    links=[LINK_SERVICE],
                    transformations=table_merge({"Value": "current"}),
                    description="Trend a service against itself; levels are not targets.",
                ),
                16,
                8,
            ),
            (
                text(
                    "About these figures",
                    "Computed by `sloctl serve` every 5 minutes over the last 30 days from the "
                    "stored deployments and Alertmanager incidents (reference/dora.md, section "
                    "E), the trend against the 30 days before. Details, reasons for missing "
                    "levels and the data-quality counts: `sloctl dora` and the "
                    "[scorecard](${scorecard}).",
                ),
                8,
                8,
            ),
        ]
    )
    scope = query_var("scope", "Scope", "label_values(sloctl_dora_sample_size, scope)")
    return dashboard(
        DORA_UID,
        "sloctl / DORA",
        "Deployment frequency, lead time, change failure rate, recovery, restore and rework.",
        layout,
        [scope],
    )
