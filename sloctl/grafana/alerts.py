"""Alerts and incidents: alerts of the selected services in Prometheus, Alertmanager and sloctl,
and sloctl's own health. Opens on the last 24 hours."""

from __future__ import annotations

from grafana_foundation_sdk.models.dashboard import DataTransformerConfig

from sloctl.core.recordings import SLO_INFO
from sloctl.grafana import panels
from sloctl.grafana.datasources import prometheus_var
from sloctl.grafana.links import ALERTS_UID, TO_SLO_ROW, to_service
from sloctl.grafana.model import Board, Json, Look, prom, query_var, table_merge, thresholds

SERVICE = 'service=~"$service"'
ALERTS = f"ALERTS{{{SERVICE}}}"
ALERT_LIST_OPTIONS: Json = {
    "viewMode": "list",
    "groupMode": "default",
    "maxItems": 50,
    "sortOrder": 1,
    "dashboardAlerts": False,
    "alertName": "",
    "alertInstanceLabelFilter": '{service=~"$service"}',
    "datasource": "${datasource}",
    "stateFilter": {"firing": True, "pending": True, "noData": False, "normal": False,
                    "error": True},
}
INCIDENTS = (
    "Notifications, groups and silences of your **Alertmanager** datasource:\n\n"
    "* [Alert groups](/alerting/groups)\n"
    "* [Silences](/alerting/silences)\n\n"
    "Incidents (alerts received by sloctl's webhook, merged per service, with time to restore) "
    "are listed by `sloctl incidents` and in the [scorecard](${scorecard})."
)


def _prometheus(board: Board) -> None:
    state = 'count(ALERTS{alertstate="%s", service=~"$service"}) or vector(0)'
    board.add(panels.count_tile("Firing (Prometheus)", state % "firing", "firing"), 6, 4)
    board.add(panels.count_tile("Pending (Prometheus)", state % "pending", "pending",
                                colour="orange"), 6, 4)
    board.add(panels.count_tile(
        "Firing (sloctl)", f'sum(sloctl_alert_state{{state="firing", {SERVICE}}}) or vector(0)',
        "firing"), 6, 4)
    board.add(panels.stat(
        "Last sloctl evaluation",
        [prom("time() - sloctl_evaluation_timestamp_seconds", "age", instant=True)],
        Look(unit="s", steps=thresholds(("green", None), ("red", 600)),
             description="Seconds since the instant of sloctl's latest evaluation."),
    ), 6, 4)
    board.add(panels.table(
        "Alerts in Prometheus", [prom(ALERTS, instant=True, table=True)],
        Look(links=[TO_SLO_ROW, to_service("service")],
             transformations=table_merge({"Value": "active"})),
    ), 24, 8)
    board.add(panels.timeseries(
        "Alerts over time",
        [prom(f"sum by (alertname, alertstate) ({ALERTS})", "{{alertname}} {{alertstate}}")],
        Look(unit="short"),
    ))
    board.add(panels.alertlist(
        "Alert rules (Prometheus)", ALERT_LIST_OPTIONS,
        "Rules evaluated by Prometheus, as Grafana Alerting lists them.",
    ))
    board.add(panels.text("Alertmanager and incidents", INCIDENTS), 24, 5)


def _sloctl_table_transformations() -> list[DataTransformerConfig]:
    """Merge state, value and threshold; keep the rows whose state query matched (1)."""
    keep_matched = {
        "type": "include",
        "match": "all",
        "filters": [{"fieldName": "Value #A", "config": {"id": "equal", "options": {"value": 1}}}],
    }
    organize = {
        "excludeByName": {"Time": True, "Value #A": True},
        "renameByName": {"Value #B": "value", "Value #C": "threshold"},
    }
    return [
        DataTransformerConfig(id_val="merge", options={}),
        DataTransformerConfig(id_val="filterByValue", options=keep_matched),
        DataTransformerConfig(id_val="organize", options=organize),
    ]


def _sloctl(board: Board) -> None:
    board.row("Alert states computed by sloctl (/metrics)")
    board.add(panels.table(
        "sloctl alerts (firing or pending)",
        [
            prom(f'sloctl_alert_state{{state=~"firing|pending", {SERVICE}}} == 1', instant=True,
                 table=True),
            prom(f"sloctl_alert_value{{{SERVICE}}}", instant=True, table=True),
            prom(f"sloctl_alert_threshold{{{SERVICE}}}", instant=True, table=True),
        ],
        Look(links=[to_service("service")], transformations=_sloctl_table_transformations()),
    ), 24, 8)
    board.add(panels.timeseries(
        "sloctl alerts by state",
        [prom(f'sum by (state) (sloctl_alert_state{{state=~"firing|pending", {SERVICE}}})',
              "{{state}}")],
        Look(unit="short"),
    ))
    board.add(panels.timeseries(
        "sloctl evaluation problems and queries",
        [prom("sloctl_evaluation_problems", "problems"),
         prom("sloctl_evaluation_queries", "queries")],
        Look(unit="short"),
    ))


def alerts() -> Json:
    """Alerts of the selected services (all by default)."""
    service = query_var("service", "Service", f"label_values({SLO_INFO}, sloth_service)",
                        multi=True)
    board = Board(
        ALERTS_UID,
        "sloctl / Alerts and incidents",
        "Alerts from Prometheus, Alertmanager and sloctl's own evaluation.",
        time_from="now-24h",
        variables=[prometheus_var(), service],
    )
    _prometheus(board)
    _sloctl(board)
    return board.json()
