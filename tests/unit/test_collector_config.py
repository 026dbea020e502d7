"""collector_config/otelcol.yaml: pipelines are wired to defined components, and the spanmetrics
preset queries exactly the metric and label names this configuration produces.

Naming rules (reference/backends.md §7.2-7.3): the connector emits ``<namespace>.calls`` (sum) and
``<namespace>.duration`` (histogram, unit ``histogram.unit``) with data-point attributes
``service.name``, ``span.name``, ``span.kind``, ``status.code`` plus ``dimensions``; remote write
with ``UnderscoreEscapingWithSuffixes`` turns dots into underscores, appends the unit
(s -> seconds, ms -> milliseconds) and ``_total`` to monotonic sums.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloctl.spec import HistogramLatency, Matcher, MetricRatio, load_specs
from sloctl.spec.presets import DEFAULT_LATENCY_THRESHOLD, PRESETS

CONFIG_PATH = Path(__file__).resolve().parents[2] / "collector_config" / "otelcol.yaml"
CONFIG: dict[str, Any] = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))
PIPELINES: dict[str, dict[str, list[str]]] = CONFIG["service"]["pipelines"]
SPAN_METRICS: dict[str, Any] = CONFIG["connectors"]["span_metrics"]
REMOTE_WRITE: dict[str, Any] = CONFIG["exporters"]["prometheus_remote_write"]

DEFAULT_DIMENSIONS = ("service.name", "span.name", "span.kind", "status.code")
UNIT_SUFFIX = {"s": "seconds", "ms": "milliseconds"}
ENV_REF = re.compile(r"\$\{env:(?P<name>\w+)(?::-(?P<default>[^}]*))?\}")
GO_DURATION = re.compile(r"(?P<number>\d+(?:\.\d+)?)(?P<unit>ns|us|µs|ms|s|m|h)")
GO_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def component_type(name: str) -> str:
    """``otlp_grpc/jaeger`` -> ``otlp_grpc``."""
    return name.split("/", 1)[0]


def signal(pipeline: str) -> str:
    """``traces/spanmetrics`` -> ``traces``."""
    return pipeline.split("/", 1)[0]


def env_default(value: str) -> str:
    """The value with every ``${env:NAME:-default}`` replaced by its default (env unset)."""
    return ENV_REF.sub(lambda m: m.group("default") or "", value)


def go_duration_seconds(text: str) -> float:
    """``"2500ms"`` -> 2.5, ``"1s"`` -> 1.0 (the forms the collector's config accepts)."""
    parts = list(GO_DURATION.finditer(text))
    assert parts and "".join(p.group(0) for p in parts) == text, f"not a Go duration: {text!r}"
    return sum(float(p.group("number")) * GO_UNIT_SECONDS[p.group("unit")] for p in parts)


def spanmetrics_names(namespace: str | None, unit: str) -> tuple[str, str]:
    """(calls counter, duration histogram base name) as Prometheus sees them."""
    prefix = f"{namespace}." if namespace else ""
    calls = f"{prefix}calls".replace(".", "_") + "_total"
    duration = f"{prefix}duration".replace(".", "_") + f"_{UNIT_SUFFIX[unit]}"
    return calls, duration


def spanmetrics_labels(connector: dict[str, Any]) -> set[str]:
    """Label names of the connector's series (dimension dots become underscores)."""
    excluded = set(connector.get("exclude_dimensions", []))
    names = [d for d in DEFAULT_DIMENSIONS if d not in excluded]
    names += [d["name"] for d in connector.get("dimensions", [])]
    return {name.replace(".", "_") for name in names}


# --- helpers checked against the reference tables -------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "unit", "expected"),
    [
        pytest.param(
            "traces.span.metrics",
            "ms",
            ("traces_span_metrics_calls_total", "traces_span_metrics_duration_milliseconds"),
            id="namespace-ms",
        ),
        pytest.param(
            "traces.span.metrics",
            "s",
            ("traces_span_metrics_calls_total", "traces_span_metrics_duration_seconds"),
            id="namespace-s",
        ),
        pytest.param(
            None, "ms", ("calls_total", "duration_milliseconds"), id="legacy-no-namespace"
        ),
    ],
)
def test_spanmetrics_name_rules_match_reference(
    namespace: str | None, unit: str, expected: tuple[str, str]
) -> None:
    assert spanmetrics_names(namespace, unit) == expected


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("300ms", 0.3, id="300ms"),
        pytest.param("2500ms", 2.5, id="2500ms"),
        pytest.param("1s", 1.0, id="1s"),
        pytest.param("1m30s", 90.0, id="1m30s"),
    ],
)
def test_go_duration_parser(text: str, seconds: float) -> None:
    assert go_duration_seconds(text) == pytest.approx(seconds)


def test_env_default_expansion() -> None:
    assert env_default("${env:X:-127.0.0.1:4317}") == "127.0.0.1:4317"
    assert env_default("${env:U:-http://h:3100/otlp}") == "http://h:3100/otlp"


# --- wiring ----------------------------------------------------------------------------------


def test_pipelines_and_their_components() -> None:
    assert PIPELINES == {
        "traces": {
            "receivers": ["otlp"],
            "processors": ["memory_limiter", "batch"],
            "exporters": ["otlp_grpc/jaeger", "span_metrics"],
        },
        "metrics": {
            "receivers": ["otlp", "span_metrics"],
            "processors": ["memory_limiter", "batch"],
            "exporters": ["prometheus_remote_write"],
        },
        "logs": {
            "receivers": ["otlp"],
            "processors": ["memory_limiter", "batch"],
            "exporters": ["otlp_http/loki"],
        },
    }


@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_pipeline_references_defined_components(pipeline: str) -> None:
    spec = PIPELINES[pipeline]
    connectors = set(CONFIG.get("connectors", {}))
    undefined = {
        "receivers": set(spec["receivers"]) - set(CONFIG["receivers"]) - connectors,
        "processors": set(spec.get("processors", [])) - set(CONFIG["processors"]),
        "exporters": set(spec["exporters"]) - set(CONFIG["exporters"]) - connectors,
    }
    assert undefined == {"receivers": set(), "processors": set(), "exporters": set()}


def test_every_defined_component_is_used() -> None:
    used = {
        kind: {name for spec in PIPELINES.values() for name in spec.get(kind, [])}
        for kind in ("receivers", "processors", "exporters")
    }
    assert set(CONFIG["receivers"]) <= used["receivers"]
    assert set(CONFIG["processors"]) <= used["processors"]
    assert set(CONFIG["exporters"]) <= used["exporters"]


@pytest.mark.parametrize("connector", list(CONFIG["connectors"]))
def test_connector_is_exporter_in_one_pipeline_and_receiver_in_another(connector: str) -> None:
    exporting = {name for name, spec in PIPELINES.items() if connector in spec["exporters"]}
    receiving = {name for name, spec in PIPELINES.items() if connector in spec["receivers"]}
    assert exporting and receiving
    assert exporting.isdisjoint(receiving)


def test_span_metrics_connects_traces_to_metrics() -> None:
    exporting = {signal(n) for n, spec in PIPELINES.items() if "span_metrics" in spec["exporters"]}
    receiving = {signal(n) for n, spec in PIPELINES.items() if "span_metrics" in spec["receivers"]}
    assert (exporting, receiving) == ({"traces"}, {"metrics"})


@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_memory_limiter_comes_first_and_batch_follows(pipeline: str) -> None:
    processors = PIPELINES[pipeline]["processors"]
    assert component_type(processors[0]) == "memory_limiter"
    assert "batch" in map(component_type, processors[1:])


# --- component names and destinations ----------------------------------------------------------


def test_pinned_collector_version_is_stated() -> None:
    pinned = re.search(r"otelcol-contrib v(\d+)\.(\d+)\.(\d+)", CONFIG_PATH.read_text())
    assert pinned is not None
    # span_metrics and prometheus_remote_write need contrib v0.154.0 or later (README.md).
    assert tuple(map(int, pinned.groups())) >= (0, 154, 0)


@pytest.mark.parametrize(
    ("section", "deprecated", "replacement"),
    [
        pytest.param("exporters", "otlp", "otlp_grpc", id="otlp-exporter"),
        pytest.param("exporters", "otlphttp", "otlp_http", id="otlphttp-exporter"),
        pytest.param("connectors", "spanmetrics", "span_metrics", id="spanmetrics-connector"),
        pytest.param(
            "exporters", "prometheusremotewrite", "prometheus_remote_write", id="remote-write"
        ),
        pytest.param("exporters", "loki", None, id="loki-exporter-removed"),
    ],
)
def test_no_deprecated_or_removed_component_types(
    section: str, deprecated: str, replacement: str | None
) -> None:
    types = {component_type(name) for name in CONFIG[section]}
    assert deprecated not in types
    if replacement is not None:
        assert replacement in types


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param(("receivers", "otlp", "protocols", "grpc"), "127.0.0.1:4317", id="otlp-grpc"),
        pytest.param(("receivers", "otlp", "protocols", "http"), "127.0.0.1:4318", id="otlp-http"),
        pytest.param(("exporters", "otlp_grpc/jaeger"), "127.0.0.1:14317", id="jaeger"),
        pytest.param(("exporters", "otlp_http/loki"), "http://127.0.0.1:3100/otlp", id="loki"),
        pytest.param(
            ("exporters", "prometheus_remote_write"),
            "http://127.0.0.1:9090/api/v1/write",
            id="prometheus-remote-write",
        ),
    ],
)
def test_default_endpoints_are_loopback(path: tuple[str, ...], expected: str) -> None:
    node: Any = CONFIG
    for key in path:
        node = node[key]
    raw = node["endpoint"]
    assert ENV_REF.fullmatch(raw), f"{'.'.join(path)} should come from the environment"
    assert env_default(raw) == expected


def test_jaeger_exporter_speaks_plain_grpc() -> None:
    assert CONFIG["exporters"]["otlp_grpc/jaeger"]["tls"] == {"insecure": True}


# --- spanmetrics output vs. sloctl's preset ----------------------------------------------------


def test_span_metrics_histogram_is_explicit_in_seconds_with_a_300ms_bucket() -> None:
    histogram = SPAN_METRICS["histogram"]
    assert histogram["unit"] == "s"
    buckets = [go_duration_seconds(b) for b in histogram["explicit"]["buckets"]]
    assert buckets == sorted(buckets)
    assert DEFAULT_LATENCY_THRESHOLD in [round(b, 9) for b in buckets]
    assert SPAN_METRICS["aggregation_temporality"] == "AGGREGATION_TEMPORALITY_CUMULATIVE"


def test_spanmetrics_preset_queries_the_names_this_config_produces() -> None:
    assert REMOTE_WRITE["translation_strategy"] == "UnderscoreEscapingWithSuffixes"
    calls, duration = spanmetrics_names(
        SPAN_METRICS["namespace"], SPAN_METRICS["histogram"]["unit"]
    )
    labels = spanmetrics_labels(SPAN_METRICS)
    preset = PRESETS["spanmetrics"]
    assert (preset.counter, preset.histogram) == (calls, duration)
    assert (calls, duration) == (
        "traces_span_metrics_calls_total",
        "traces_span_metrics_duration_seconds",
    )
    assert labels == {
        "service_name",
        "span_name",
        "span_kind",
        "status_code",
        "http_route",
        "http_response_status_code",
    }
    queried = {preset.service_label, preset.status_label} | {m.label for m in preset.base_selector}
    assert queried <= labels
    assert (preset.service_label, preset.status_label, preset.error_regex) == (
        "service_name",
        "status_code",
        "STATUS_CODE_ERROR",
    )
    assert preset.base_selector == (Matcher("span_kind", "=", "SPAN_KIND_SERVER"),)


def test_spanmetrics_indicator_models() -> None:
    preset = PRESETS["spanmetrics"]
    server = Matcher("span_kind", "=", "SPAN_KIND_SERVER")
    route = Matcher("http_route", "=", "/api/orders")
    assert preset.availability((route,)) == MetricRatio(
        "traces_span_metrics_calls_total",
        (server, route),
        (Matcher("status_code", "=~", "STATUS_CODE_ERROR"),),
    )
    assert preset.latency(0.3, (route,)) == HistogramLatency(
        "traces_span_metrics_duration_seconds", (server, route), 0.3
    )


def test_spanmetrics_latency_preset_in_a_spec_file(tmp_path: Path) -> None:
    spec_file = tmp_path / "slo.yaml"
    spec_file.write_text(
        textwrap.dedent("""\
            apiVersion: sloctl/v1
            kind: SLO
            metadata: {name: checkout-latency}
            spec:
              service: order
              objective: 99
              indicator:
                preset: spanmetrics-latency
                selector: {http_route: /api/orders}
            """)
    )
    [slo] = load_specs([spec_file])
    assert slo.service_label == "service_name"
    assert slo.indicator == HistogramLatency(
        "traces_span_metrics_duration_seconds",
        (Matcher("span_kind", "=", "SPAN_KIND_SERVER"), Matcher("http_route", "=", "/api/orders")),
        0.3,
    )
