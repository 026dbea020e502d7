"""The sloctl dashboards: golden signals, SLO overview, one SLO, alerts and incidents, DORA.

Raw-metric queries use the OpenTelemetry names as they land in Prometheus; SLO queries use the
Sloth-compatible recording rules of rules/generated (``slo:*`` with ``sloth_*`` labels); the
``sloctl_*`` series are what ``sloctl serve`` exposes on ``/metrics``.
"""

from __future__ import annotations

from typing import Any

from sloctl.core.recordings import (
    CURRENT_BURN_RATE,
    ERROR_BUDGET,
    OBJECTIVE,
    PERIOD_BUDGET_REMAINING,
    SLI_ERROR_PREFIX,
    SLO_LABELS,
)
from sloctl.grafana.dora_dashboard import dora
from sloctl.grafana.model import (
    Json,
    Layout,
    dashboard,
    data_link,
    jaeger_search,
    loki,
    panel,
    prom,
    query_var,
    row,
    stat_options,
    table_merge,
    text,
    threshold_lines,
    thresholds,
)

GOLDEN_UID = "sloctl-golden-signals"
OVERVIEW_UID = "sloctl-slo-overview"
SLO_UID = "sloctl-slo"
ALERTS_UID = "sloctl-alerts"

HTTP = "http_server_request_duration_seconds"
CPU = "process_cpu_seconds_total"
SERVICE = 'service_name="$service"'
RATE = "[$__rate_interval]"
SLO_KEYS = ", ".join(SLO_LABELS)
SLO_SEL = 'sloth_id="$sloth_id"'

BUDGET_STEPS = thresholds(("red", None), ("orange", 0.0), ("yellow", 0.25), ("green", 0.5))
BURN_STEPS = thresholds(("green", None), ("yellow", 1.0), ("orange", 6.0), ("red", 14.4))

LINK_SLO = data_link(
    "Error budget of ${__field.labels.sloth_id}",
    SLO_UID,
    {"sloth_id": "${__field.labels.sloth_id}"},
)
LINK_SLO_ROW = data_link(
    "Error budget of ${__data.fields.sloth_id}", SLO_UID, {"sloth_id": "${__data.fields.sloth_id}"}
)
LINK_ALERTS = data_link("Alerts and incidents", ALERTS_UID)
LINK_SERVICE_ROW = data_link(
    "Golden signals of ${__data.fields.service}",
    GOLDEN_UID,
    {"service": "${__data.fields.service}"},
)
LINK_SLO_SERVICE_ROW = data_link(
    "Golden signals of ${__data.fields.sloth_service}",
    GOLDEN_UID,
    {"service": "${__data.fields.sloth_service}"},
)



def count_tile(
    title: str, expr: str, legend: str, *, colour: str = "red", **extra: Any
) -> tuple[Json, int, int]:
    """A 6x4 stat tile counting something that should be zero: green at 0, ``colour`` from 1."""
    return (
        panel(
            "stat",
            title,
            [prom(expr, legend, instant=True)],
            steps=thresholds(("green", None), (colour, 1)),
            options=stat_options(),
            **extra,
        ),
        6,
        4,
    )


def _period_sli(selector: str = "") -> str:
    """SLI over the SLO period from the budget rules: 1 - (1 - remaining) x error budget."""
    inner = f"{{{selector}}}" if selector else ""
    return (
        f"1 - max by ({SLO_KEYS}) ((1 - {PERIOD_BUDGET_REMAINING}{inner})"
        f" * on (sloth_id) group_left () {ERROR_BUDGET}{inner})"
    )


def _service_ratio(selector: str) -> str:
    return (
        f"sum(rate({HTTP}_count{{{SERVICE}, {selector}}}{RATE}))"
        f" / sum(rate({HTTP}_count{{{SERVICE}}}{RATE}))"
    )


def _quantile(q: float) -> str:
    return f"histogram_quantile({q}, sum by (le) (rate({HTTP}_bucket{{{SERVICE}}}{RATE})))"


def golden_signals() -> Json:
    """Traffic, errors, latency and saturation of one service, its SLOs, logs and traces."""
    traffic = f"sum(rate({HTTP}_count{{{SERVICE}}}{RATE}))"
    errors = _service_ratio('http_response_status_code=~"5.."')
    cpu = f"sum(rate({CPU}{{{SERVICE}}}{RATE}))"
    to_slos = data_link("SLO overview", OVERVIEW_UID)
    layout = Layout().add(row("Golden signals of $service"))
    layout.extend(
        [
            (
                panel(
                    "stat",
                    "Traffic",
                    [prom(traffic, "req/s")],
                    unit="reqps",
                    options=stat_options(),
                    links=[to_slos],
                ),
                6,
                4,
            ),
            (
                panel(
                    "stat",
                    "Error ratio",
                    [prom(errors, "errors")],
                    unit="percentunit",
                    decimals=2,
                    steps=thresholds(("green", None), ("red", 0.005)),
                    options=stat_options(),
                    links=[LINK_ALERTS],
                ),
                6,
                4,
            ),
            (
                panel(
                    "stat",
                    "Latency p95",
                    [prom(_quantile(0.95), "p95")],
                    unit="s",
                    steps=thresholds(("green", None), ("red", 0.3)),
                    options=stat_options(),
                ),
                6,
                4,
            ),
            (
                panel(
                    "stat",
                    "Saturation (CPU cores)",
                    [prom(cpu, "cpu")],
                    unit="short",
                    decimals=2,
                    options=stat_options(),
                ),
                6,
                4,
            ),
            (
                panel(
                    "timeseries",
                    "Traffic by status code",
                    [
                        prom(
                            f"sum by (http_response_status_code) "
                            f"(rate({HTTP}_count{{{SERVICE}}}{RATE}))",
                            "{{http_response_status_code}}",
                        )
                    ],
                    unit="reqps",
                    description="Requests per second (http.server.request.duration count).",
                ),
                12,
                8,
            ),
            (
                panel(
                    "timeseries",
                    "Error ratio (5xx / all)",
                    [prom(errors, "5xx ratio")],
                    unit="percentunit",
                    steps=thresholds(("green", None), ("red", 0.005)),
                    custom=threshold_lines(),
                    links=[LINK_ALERTS],
                    description="Dashed line: the default alert threshold (0.5 %).",
                ),
                12,
                8,
            ),
            (
                panel(
                    "timeseries",
                    "Latency p50 / p95 / p99",
                    [prom(_quantile(q), f"p{round(q * 100)}") for q in (0.5, 0.95, 0.99)],
                    unit="s",
                    steps=thresholds(("green", None), ("red", 0.3)),
                    custom=threshold_lines(),
                    description="Interpolated from histogram buckets. Dashed line: 300 ms alert.",
                ),
                12,
                8,
            ),
            (
                panel(
                    "timeseries",
                    "Saturation: CPU",
                    [prom(cpu, "cores")],
                    unit="short",
                    description="process_cpu_seconds_total rate: CPU cores in use.",
                ),
                12,
                8,
            ),
        ]
    )
    layout.add(row("SLOs of $service"))
    layout.extend(
        [
            (
                panel(
                    "bargauge",
                    "Error budget remaining",
                    [
                        prom(
                            f'{PERIOD_BUDGET_REMAINING}{{sloth_service="$service"}}',
                            "{{sloth_slo}}",
                            instant=True,
                        )
                    ],
                    unit="percentunit",
                    steps=BUDGET_STEPS,
                    max_value=1,
                    links=[LINK_SLO],
                    options={"orientation": "horizontal", "displayMode": "basic"},
                ),
                8,
                8,
            ),
            (
                panel(
                    "timeseries",
                    "Current burn rate (5m)",
                    [
                        prom(
                            f'{CURRENT_BURN_RATE}{{sloth_service="$service"}}', "{{sloth_slo}}"
                        )
                    ],
                    unit="short",
                    steps=BURN_STEPS,
                    custom=threshold_lines(),
                    links=[LINK_SLO],
                ),
                8,
                8,
            ),
            (
                panel(
                    "table",
                    "Signals computed by sloctl",
                    [
                        prom(
                            'sloctl_signal{service="$service"}',
                            "{{signal}}",
                            instant=True,
                            table=True,
                        )
                    ],
                    transformations=table_merge({"Value": "value"}),
                    description="The golden signals of sloctl's last evaluation (/metrics).",
                ),
                8,
                8,
            ),
        ]
    )
    layout.add(row("Logs and traces of $service"))
    layout.extend(
        [
            (
                panel(
                    "logs",
                    "Error logs",
                    [loki('{service_name="$service"} |~ "(?i)error"')],
                    options={"showTime": True, "sortOrder": "Descending", "wrapLogMessage": True},
                ),
                12,
                10,
            ),
            (panel("table", "Recent traces", [jaeger_search("$service")]), 12, 10),
        ]
    )
    service_var = query_var("service", "Service", f"label_values({HTTP}_count, service_name)")
    return dashboard(
        GOLDEN_UID,
        "sloctl / Golden signals",
        "Traffic, errors, latency and saturation per service (OpenTelemetry HTTP metrics).",
        layout,
        [service_var],
    )


def slo_overview() -> Json:
    """Every SLO: objective, SLI, budget remaining, burn rate, firing alerts."""
    firing = 'ALERTS{alertstate="firing"}'
    layout = Layout().extend(
        [
            (
                panel(
                    "stat",
                    "SLOs",
                    [prom(f"count({OBJECTIVE})", "SLOs", instant=True)],
                    options=stat_options(),
                ),
                6,
                4,
            ),
            count_tile("Firing alerts", f"count({firing}) or vector(0)", "firing",
                       links=[LINK_ALERTS]),
            count_tile("SLOs out of budget",
                       f"count({PERIOD_BUDGET_REMAINING} < 0) or vector(0)",
                       "exhausted"),
            (
                panel(
                    "stat",
                    "Breaching (sloctl)",
                    [prom("sum(sloctl_slo_breaching)", "breaching", instant=True)],
                    steps=thresholds(("green", None), ("red", 1)),
                    options=stat_options(),
                    description="SLOs whose SLI is below the objective in sloctl's evaluation.",
                ),
                6,
                4,
            ),
            (
                panel(
                    "table",
                    "SLOs",
                    [
                        prom(
                            f"max by ({SLO_KEYS}) ({OBJECTIVE})", instant=True, table=True
                        ),
                        prom(_period_sli(), instant=True, table=True),
                        prom(
                            f"max by ({SLO_KEYS}) ({PERIOD_BUDGET_REMAINING})",
                            instant=True,
                            table=True,
                        ),
                        prom(
                            f"max by ({SLO_KEYS}) ({CURRENT_BURN_RATE})",
                            instant=True,
                            table=True,
                        ),
                        prom(
                            f'count by ({SLO_KEYS}) (ALERTS{{alertstate="firing", sloth_id!=""}})',
                            instant=True,
                            table=True,
                        ),
                    ],
                    unit="percentunit",
                    decimals=3,
                    links=[LINK_SLO_ROW, LINK_SLO_SERVICE_ROW],
                    transformations=table_merge(
                        {
                            "Value #A": "Objective",
                            "Value #B": "SLI (period)",
                            "Value #C": "Budget remaining",
                            "Value #D": "Burn rate (5m)",
                            "Value #E": "Firing alerts",
                        }
                    ),
                    description="Click a row for the SLO's error budget and burn rates.",
                ),
                24,
                9,
            ),
            (
                panel(
                    "bargauge",
                    "Error budget remaining",
                    [
                        prom(
                            f'{PERIOD_BUDGET_REMAINING}{{sloth_id!=""}}',
                            "{{sloth_id}}",
                            instant=True,
                        )
                    ],
                    unit="percentunit",
                    steps=BUDGET_STEPS,
                    max_value=1,
                    links=[LINK_SLO],
                    options={"orientation": "horizontal", "displayMode": "gradient"},
                ),
                12,
                10,
            ),
            (
                panel(
                    "timeseries",
                    "Current burn rate (5m)",
                    [prom(f'{CURRENT_BURN_RATE}{{sloth_id!=""}}', "{{sloth_id}}")],
                    unit="short",
                    steps=BURN_STEPS,
                    custom=threshold_lines(),
                    links=[LINK_SLO],
                    description="1 spends the budget exactly over the period; 14.4 pages.",
                ),
                12,
                10,
            ),
            (
                panel(
                    "timeseries",
                    "Error budget remaining over time",
                    [prom(f'{PERIOD_BUDGET_REMAINING}{{sloth_id!=""}}', "{{sloth_id}}")],
                    unit="percentunit",
                    steps=BUDGET_STEPS,
                    links=[LINK_SLO],
                ),
                12,
                8,
            ),
            (
                panel(
                    "table",
                    "Firing alerts (Prometheus)",
                    [prom(firing, instant=True, table=True)],
                    links=[LINK_SLO_ROW, LINK_SERVICE_ROW, LINK_ALERTS],
                    transformations=table_merge({"Value": "active"}),
                ),
                12,
                8,
            ),
        ]
    )
    layout.add(row("Computed by sloctl (/metrics)"))
    layout.extend(
        [
            (
                panel(
                    "table",
                    "SLOs as sloctl sees them",
                    [
                        prom(
                            "max by (slo_id, service, slo) (sloctl_slo_objective)",
                            instant=True,
                            table=True,
                        ),
                        prom(
                            "max by (slo_id, service, slo) (sloctl_slo_error_budget_remaining)",
                            instant=True,
                            table=True,
                        ),
                        prom(
                            "max by (slo_id, service, slo) (sloctl_slo_breaching)",
                            instant=True,
                            table=True,
                        ),
                    ],
                    unit="percentunit",
                    decimals=3,
                    transformations=table_merge(
                        {
                            "Value #A": "Objective",
                            "Value #B": "Budget remaining",
                            "Value #C": "Breaching",
                        }
                    ),
                ),
                12,
                8,
            ),
            (
                panel(
                    "timeseries",
                    "Budget remaining (sloctl)",
                    [prom("sloctl_slo_error_budget_remaining", "{{slo_id}}")],
                    unit="percentunit",
                    steps=BUDGET_STEPS,
                ),
                12,
                8,
            ),
        ]
    )
    return dashboard(
        OVERVIEW_UID,
        "sloctl / SLO overview",
        "All SLOs: objective, SLI, error budget remaining, burn rate, firing alerts.",
        layout,
    )


def slo_detail() -> Json:
    """One SLO (variable ``sloth_id``): budget and burn rates on the recording rules."""
    burn_by_window = (
        f'{{__name__=~"{SLI_ERROR_PREFIX}.+", {SLO_SEL}}}'
        f" / on (sloth_id) group_left () {ERROR_BUDGET}{{{SLO_SEL}}}"
    )
    sloctl_sel = 'service="$service", slo="$slo"'
    to_service = data_link("Golden signals of $service", GOLDEN_UID, {"service": "$service"})
    layout = Layout().extend(
        [
            (
                panel(
                    "stat",
                    "Objective",
                    [prom(f"{OBJECTIVE}{{{SLO_SEL}}}", "objective")],
                    unit="percentunit",
                    decimals=3,
                    options=stat_options(),
                ),
                6,
                4,
            ),
            (
                panel(
                    "stat",
                    "SLI over the period",
                    [prom(_period_sli(SLO_SEL), "SLI")],
                    unit="percentunit",
                    decimals=3,
                    options=stat_options(),
                    links=[to_service],
                ),
                6,
                4,
            ),
            (
                panel(
                    "stat",
                    "Error budget remaining",
                    [prom(f"{PERIOD_BUDGET_REMAINING}{{{SLO_SEL}}}", "remaining")],
                    unit="percentunit",
                    steps=BUDGET_STEPS,
                    options=stat_options(),
                ),
                6,
                4,
            ),
            (
                panel(
                    "stat",
                    "Current burn rate (5m)",
                    [prom(f"{CURRENT_BURN_RATE}{{{SLO_SEL}}}", "burn rate")],
                    unit="short",
                    decimals=2,
                    steps=BURN_STEPS,
                    options=stat_options(),
                ),
                6,
                4,
            ),
            (
                panel(
                    "timeseries",
                    "Error budget remaining",
                    [prom(f"{PERIOD_BUDGET_REMAINING}{{{SLO_SEL}}}", "remaining")],
                    unit="percentunit",
                    steps=BUDGET_STEPS,
                    custom=threshold_lines(),
                ),
                12,
                8,
            ),
            (
                panel(
                    "timeseries",
                    "Burn rate by window",
                    [prom(burn_by_window, "{{sloth_window}}")],
                    unit="short",
                    steps=BURN_STEPS,
                    custom=threshold_lines(),
                    description="Page: 1h and 5m above 14.4, or 6h and 30m above 6. "
                    "Ticket: 1d and 2h above 3, or 3d and 6h above 1.",
                ),
                12,
                8,
            ),
            (
                panel(
                    "timeseries",
                    "Error ratio by window",
                    [
                        prom(
                            f'{{__name__=~"{SLI_ERROR_PREFIX}.+", {SLO_SEL}}}',
                            "{{sloth_window}}",
                        )
                    ],
                    unit="percentunit",
                    links=[to_service],
                ),
                12,
                8,
            ),
            (
                panel(
                    "table",
                    "Alerts of this SLO",
                    [prom(f"ALERTS{{{SLO_SEL}}}", instant=True, table=True)],
                    transformations=table_merge({"Value": "active"}),
                    links=[LINK_ALERTS],
                ),
                12,
                8,
            ),
        ]
    )
    layout.add(row("Computed by sloctl (/metrics)"))
    layout.extend(
        [
            (
                panel(
                    "timeseries",
                    "Burn rate by window (sloctl)",
                    [prom(f"sloctl_slo_burn_rate{{{sloctl_sel}}}", "{{window}}")],
                    unit="short",
                    steps=BURN_STEPS,
                    custom=threshold_lines(),
                ),
                12,
                8,
            ),
            (
                panel(
                    "table",
                    "Burn-rate rules (sloctl)",
                    [
                        prom(
                            f"sloctl_slo_burn_rate_rule_firing{{{sloctl_sel}}}",
                            instant=True,
                            table=True,
                        )
                    ],
                    transformations=table_merge({"Value": "firing"}),
                ),
                12,
                8,
            ),
        ]
    )
    variables = [
        query_var("sloth_id", "SLO", f"label_values({OBJECTIVE}, sloth_id)"),
        query_var(
            "service",
            "Service",
            f"label_values({OBJECTIVE}{{{SLO_SEL}}}, sloth_service)",
            hide=True,
        ),
        query_var(
            "slo",
            "SLO name",
            f"label_values({OBJECTIVE}{{{SLO_SEL}}}, sloth_slo)",
            hide=True,
        ),
    ]
    return dashboard(
        SLO_UID,
        "sloctl / SLO error budget",
        "Error budget and multiwindow burn rates of one SLO (recording rules).",
        layout,
        variables,
    )


def alerts() -> Json:
    """Firing alerts in Prometheus, Alertmanager and sloctl, and sloctl's own health."""
    layout = Layout().extend(
        [
            count_tile("Firing (Prometheus)", 'count(ALERTS{alertstate="firing"}) or vector(0)',
                       "firing"),
            count_tile("Pending (Prometheus)",
                       'count(ALERTS{alertstate="pending"}) or vector(0)', "pending",
                       colour="orange"),
            count_tile("Firing (sloctl)", 'sum(sloctl_alert_state{state="firing"}) or vector(0)',
                       "firing"),
            (
                panel(
                    "stat",
                    "Last sloctl evaluation",
                    [prom("time() - sloctl_evaluation_timestamp_seconds", "age", instant=True)],
                    unit="s",
                    steps=thresholds(("green", None), ("red", 600)),
                    options=stat_options(),
                    description="Seconds since the instant of sloctl's latest evaluation.",
                ),
                6,
                4,
            ),
            (
                panel(
                    "table",
                    "Alerts in Prometheus",
                    [prom("ALERTS", instant=True, table=True)],
                    links=[LINK_SLO_ROW, LINK_SERVICE_ROW],
                    transformations=table_merge({"Value": "active"}),
                ),
                24,
                8,
            ),
            (
                panel(
                    "timeseries",
                    "Alerts over time",
                    [
                        prom(
                            "sum by (alertname, alertstate) (ALERTS)",
                            "{{alertname}} {{alertstate}}",
                        )
                    ],
                    unit="short",
                ),
                12,
                8,
            ),
            (
                panel(
                    "alertlist",
                    "Alert rules (Prometheus)",
                    options={
                        "viewMode": "list",
                        "groupMode": "default",
                        "maxItems": 50,
                        "sortOrder": 1,
                        "dashboardAlerts": False,
                        "alertName": "",
                        "alertInstanceLabelFilter": "",
                        "datasource": "Prometheus",
                        "stateFilter": {
                            "firing": True,
                            "pending": True,
                            "noData": False,
                            "normal": False,
                            "error": True,
                        },
                    },
                    description="Rules evaluated by Prometheus, as Grafana Alerting lists them.",
                ),
                12,
                8,
            ),
            (
                text(
                    "Alertmanager and incidents",
                    "Notifications, groups and silences of the provisioned **Alertmanager** "
                    "datasource:\n\n"
                    "* [Alert groups](/alerting/groups?alertmanager=Alertmanager)\n"
                    "* [Silences](/alerting/silences?alertmanager=Alertmanager)\n\n"
                    "Incidents (alerts received by sloctl's webhook, merged per service, with time "
                    "to restore) are listed by `sloctl incidents` and in the "
                    "[scorecard](${scorecard}).",
                ),
                24,
                5,
            ),
        ]
    )
    layout.add(row("Alert states computed by sloctl (/metrics)"))
    layout.extend(
        [
            (
                panel(
                    "table",
                    "sloctl alerts (firing or pending)",
                    [
                        prom(
                            'sloctl_alert_state{state=~"firing|pending"} == 1',
                            instant=True,
                            table=True,
                        ),
                        prom("sloctl_alert_value", instant=True, table=True),
                        prom("sloctl_alert_threshold", instant=True, table=True),
                    ],
                    links=[LINK_SERVICE_ROW],
                    transformations=[
                        {"id": "merge", "options": {}},
                        {
                            "id": "filterByValue",
                            "options": {
                                "type": "include",
                                "match": "all",
                                "filters": [
                                    {
                                        "fieldName": "Value #A",
                                        "config": {"id": "equal", "options": {"value": 1}},
                                    }
                                ],
                            },
                        },
                        {
                            "id": "organize",
                            "options": {
                                "excludeByName": {"Time": True, "Value #A": True},
                                "renameByName": {"Value #B": "value", "Value #C": "threshold"},
                            },
                        },
                    ],
                ),
                24,
                8,
            ),
            (
                panel(
                    "timeseries",
                    "sloctl alerts by state",
                    [
                        prom(
                            'sum by (state) (sloctl_alert_state{state=~"firing|pending"})',
                            "{{state}}",
                        )
                    ],
                    unit="short",
                ),
                12,
                8,
            ),
            (
                panel(
                    "timeseries",
                    "sloctl evaluation problems and queries",
                    [
                        prom("sloctl_evaluation_problems", "problems"),
                        prom("sloctl_evaluation_queries", "queries"),
                    ],
                    unit="short",
                ),
                12,
                8,
            ),
        ]
    )
    return dashboard(
        ALERTS_UID,
        "sloctl / Alerts and incidents",
        "Alerts from Prometheus, Alertmanager and sloctl's own evaluation.",
        layout,
    )


def all_dashboards() -> dict[str, Json]:
    """Every dashboard by file name (``<uid>.json``)."""
    boards = (golden_signals(), slo_overview(), slo_detail(), alerts(), dora())
    return {f"{d['uid']}.json": d for d in boards}
