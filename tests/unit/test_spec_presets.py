"""HTTP presets: each indicator preset resolves to the exact expected model."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sloctl.spec import (
    PRESETS,
    HistogramLatency,
    Matcher,
    MetricRatio,
    get_preset,
    load_specs,
)
from sloctl.spec.models import Indicator
from sloctl.spec.presets import UnknownPresetError

OTEL = PRESETS["otel-http"]
PROM = PRESETS["prometheus-http"]


def test_preset_table() -> None:
    assert OTEL.service_label == "service_name"
    assert OTEL.histogram == "http_server_request_duration_seconds"
    assert OTEL.counter == "http_server_request_duration_seconds_count"
    assert OTEL.status_label == "http_response_status_code"
    assert OTEL.saturation_query == (
        "sum by (service_name) (rate(process_cpu_seconds_total[{{window}}]))"
    )
    assert (PROM.service_label, PROM.histogram, PROM.counter, PROM.status_label) == (
        "job",
        "http_request_duration_seconds",
        "http_requests_total",
        "code",
    )
    assert PROM.saturation_query == "sum by (job) (rate(process_cpu_seconds_total[{{window}}]))"


def test_get_preset_unknown_lists_valid_names() -> None:
    with pytest.raises(KeyError) as excinfo:
        get_preset("otel")
    assert isinstance(excinfo.value, UnknownPresetError)
    assert str(excinfo.value) == (
        "unknown preset 'otel'; valid presets: otel-http, otel-http-legacy, prometheus-http, "
        "spanmetrics, spanmetrics-ms, spanmetrics-bare, spanmetrics-bare-ms"
    )


ROUTE = (Matcher("http_route", "=", "/api/orders"),)


@pytest.mark.parametrize(
    ("preset", "extra", "service_label", "expected"),
    [
        pytest.param(
            "otel-http-availability",
            "",
            "service_name",
            MetricRatio(
                "http_server_request_duration_seconds_count",
                ROUTE,
                (Matcher("http_response_status_code", "=~", "5.."),),
            ),
            id="otel-availability",
        ),
        pytest.param(
            "otel-http-latency",
            "",
            "service_name",
            HistogramLatency("http_server_request_duration_seconds", ROUTE, 0.3),
            id="otel-latency-default-threshold",
        ),
        pytest.param(
            "otel-http-latency",
            "threshold: 250ms",
            "service_name",
            HistogramLatency("http_server_request_duration_seconds", ROUTE, 0.25),
            id="otel-latency-250ms",
        ),
        pytest.param(
            "prometheus-http-availability",
            "",
            "job",
            MetricRatio("http_requests_total", ROUTE, (Matcher("code", "=~", "5.."),)),
            id="prometheus-availability",
        ),
        pytest.param(
            "prometheus-http-latency",
            "threshold: 1s",
            "job",
            HistogramLatency("http_request_duration_seconds", ROUTE, 1.0),
            id="prometheus-latency-1s",
        ),
    ],
)
def test_indicator_preset_resolves(
    tmp_path: Path, preset: str, extra: str, service_label: str, expected: Indicator
) -> None:
    spec_file = tmp_path / "slo.yaml"
    spec_file.write_text(
        textwrap.dedent(f"""\
            apiVersion: sloctl/v1
            kind: SLO
            metadata: {{name: checkout}}
            spec:
              service: order
              objective: 99.5
              indicator:
                preset: {preset}
                selector: {{http_route: /api/orders}}
                {extra}
            """)
    )
    [slo] = load_specs([spec_file])
    assert slo.indicator == expected
    assert slo.service_label == service_label


def test_service_label_override_wins_over_preset(tmp_path: Path) -> None:
    spec_file = tmp_path / "slo.yaml"
    spec_file.write_text(
        textwrap.dedent("""\
            apiVersion: sloctl/v1
            kind: SLO
            metadata: {name: up}
            spec:
              service: order
              objective: 99
              serviceLabel: app
              indicator: {preset: prometheus-http-availability}
            """)
    )
    [slo] = load_specs([spec_file])
    assert slo.service_label == "app"
    assert slo.indicator == MetricRatio("http_requests_total", (), (Matcher("code", "=~", "5.."),))
