"""Golden signals: traffic, errors, latency and saturation of the selected services (OpenTelemetry
HTTP metrics), their SLOs, error logs (Loki) and traces (Jaeger). Opens on the last 6 hours."""

from __future__ import annotations

from sloctl.core.recordings import CURRENT_BURN_RATE, PERIOD_BUDGET_REMAINING
from sloctl.grafana import panels
from sloctl.grafana.datasources import JAEGER, LOKI, jaeger_var, loki_var, prometheus_var
from sloctl.grafana.links import GOLDEN_UID, TO_ALERTS, TO_OVERVIEW, TO_SLO_SERIES
from sloctl.grafana.model import (
    Board,
    JaegerSearch,
    Json,
    Look,
    loki,
    prom,
    query_var,
    table_merge,
    thresholds,
)
from sloctl.grafana.slo_common import BUDGET_STEPS, BURN_STEPS

HTTP = "http_server_request_duration_seconds"
CPU = "process_cpu_seconds_total"
SERVICE = 'service_name=~"$service"'
RATE = "[$__rate_interval]"
BY = "sum by (service_name)"
ERROR_STEPS = (("green", None), ("red", 0.005))
LATENCY_STEPS = (("green", None), ("red", 0.3))


def _rate(selector: str = "") -> str:
    extra = f", {selector}" if selector else ""
    return f"rate({HTTP}_count{{{SERVICE}{extra}}}{RATE})"


def traffic() -> str:
    return f"{BY} ({_rate()})"


def error_ratio() -> str:
    errors = _rate('http_response_status_code=~"5.."')
    return f"{BY} ({errors}) / {BY} ({_rate()})"


def quantile(q: float) -> str:
    return (
        f"histogram_quantile({q}, sum by (service_name, le) "
        f"(rate({HTTP}_bucket{{{SERVICE}}}{RATE})))"
    )


def cpu() -> str:
    return f"{BY} (rate({CPU}{{{SERVICE}}}{RATE}))"


def _signals(board: Board) -> None:
    board.row("Golden signals of $service")
    legend = "{{service_name}}"
    board.add(panels.stat("Traffic", [prom(traffic(), legend)],
                          Look(unit="reqps", links=[TO_OVERVIEW])), 6, 4)
    board.add(panels.stat("Error ratio", [prom(error_ratio(), legend)],
                          Look(unit="percentunit", decimals=2, steps=thresholds(*ERROR_STEPS),
                               links=[TO_ALERTS])), 6, 4)
    board.add(panels.stat("Latency p95", [prom(quantile(0.95), legend)],
                          Look(unit="s", steps=thresholds(*LATENCY_STEPS))), 6, 4)
    board.add(panels.stat("Saturation (CPU cores)", [prom(cpu(), legend)],
                          Look(unit="short", decimals=2)), 6, 4)
    by_code = f"sum by (service_name, http_response_status_code) ({_rate()})"
    board.add(panels.timeseries(
        "Traffic by status code",
        [prom(by_code, "{{service_name}} {{http_response_status_code}}")],
        Look(unit="reqps",
             description="Requests per second (http.server.request.duration count)."),
    ))
    board.add(panels.timeseries(
        "Error ratio (5xx / all)", [prom(error_ratio(), legend)],
        Look(unit="percentunit", steps=thresholds(*ERROR_STEPS), links=[TO_ALERTS],
             description="Dashed line: the default alert threshold (0.5 %)."),
        threshold_lines=True,
    ))
    board.add(panels.timeseries(
        "Latency p50 / p95 / p99",
        [prom(quantile(q), f"{{{{service_name}}}} p{round(q * 100)}") for q in (0.5, 0.95, 0.99)],
        Look(unit="s", steps=thresholds(*LATENCY_STEPS),
             description="Interpolated from histogram buckets. Dashed line: 300 ms alert."),
        threshold_lines=True,
    ))
    board.add(panels.timeseries(
        "Saturation: CPU", [prom(cpu(), legend)],
        Look(unit="short", description="process_cpu_seconds_total rate: CPU cores in use."),
    ))


def _slos(board: Board) -> None:
    board.row("SLOs of $service")
    service = 'sloth_service=~"$service"'
    board.add(panels.bargauge(
        "Error budget remaining",
        [prom(f"{PERIOD_BUDGET_REMAINING}{{{service}}}", "{{sloth_id}}", instant=True)],
        Look(unit="percentunit", steps=BUDGET_STEPS, max=1, links=[TO_SLO_SERIES]),
    ), 8, 8)
    board.add(panels.timeseries(
        "Current burn rate (5m)",
        [prom(f"{CURRENT_BURN_RATE}{{{service}}}", "{{sloth_id}}")],
        Look(unit="short", steps=BURN_STEPS, links=[TO_SLO_SERIES]),
        threshold_lines=True,
    ), 8, 8)
    board.add(panels.table(
        "Signals computed by sloctl",
        [prom('sloctl_signal{service=~"$service"}', "{{service}} {{signal}}", instant=True,
              table=True)],
        Look(transformations=table_merge({"Value": "value"}),
             description="The golden signals of sloctl's last evaluation (/metrics)."),
    ), 8, 8)


def _logs_and_traces(board: Board) -> None:
    board.row("Logs and traces of $service")
    board.add(panels.logs(
        "Error logs", [loki('{service_name=~"$service"} |~ "(?i)error"')], Look(datasource=LOKI)
    ), 12, 10)
    traces = panels.table("Recent traces of $service", [JaegerSearch("$service")],
                          Look(datasource=JAEGER))
    board.add(traces.repeat("service").repeat_direction("v"), 12, 10)


def golden_signals() -> Json:
    """Traffic, errors, latency and saturation of the selected services, their SLOs, logs and
    traces (one traces panel per selected service: Jaeger searches one service)."""
    service = query_var("service", "Service", f"label_values({HTTP}_count, service_name)",
                        multi=True)
    board = Board(
        GOLDEN_UID,
        "sloctl / Golden signals",
        "Traffic, errors, latency and saturation per service (OpenTelemetry HTTP metrics).",
        time_from="now-6h",
        variables=[prometheus_var(), loki_var(), jaeger_var(), service],
    )
    _signals(board)
    _slos(board)
    _logs_and_traces(board)
    return board.json()
