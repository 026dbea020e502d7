"""``discover`` on plain series (a fake reader), and the starter spec it writes, loaded back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import yaml

from sloctl.discover.fetch import Reader, Span
from sloctl.discover.identity import IdentityKind, Target
from sloctl.discover.scan import discover
from sloctl.discover.starter import starter_spec
from sloctl.spec.loader import validate_paths
from sloctl.spec.models import HistogramLatency, Matcher, MetricRatio

AT = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
SECONDS_LE = ("0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1",
              "2.5", "5", "7.5", "10", "+Inf")
MS_LE = ("0", "5", "10", "25", "50", "75", "100", "250", "300", "500", "1000", "+Inf")


class FakeReader(Reader):
    """Answers discover's reads from a list of series (label sets with ``__name__``)."""

    def __init__(self, series: Sequence[dict[str, str]]) -> None:
        self.series_list = list(series)
        self.span = Span(AT)
        self.calls: list[str] = []

    @property
    def url(self) -> str:
        return "http://prometheus.test:9090"

    def _matching(self, metric: str, matchers: Sequence[Matcher]) -> list[dict[str, str]]:
        return [
            s for s in self.series_list
            if s["__name__"] == metric and all(s.get(m.label, "") == m.value for m in matchers
                                               if m.op == "=")
        ]

    def present_names(self, names: Iterable[str]) -> set[str]:
        self.calls.append("names")
        return {s["__name__"] for s in self.series_list} & set(names)

    def label_names(self, metric: str, matchers: Sequence[Matcher] = ()) -> set[str]:
        self.calls.append(f"labels {metric}")
        return {k for s in self._matching(metric, matchers) for k in s}

    def target_info(self, label: str) -> list[dict[str, str]]:
        self.calls.append("target_info")
        return [s for s in self._matching("target_info", ()) if s.get(label)]

    def rows(self, metric: str, matchers: Sequence[Matcher], by: Sequence[str]
             ) -> list[dict[str, str]]:
        self.calls.append(f"rows {metric}")
        groups = {tuple((k, s[k]) for k in by if s.get(k)) for s in self._matching(metric,
                                                                                      matchers)}
        return [dict(g) for g in sorted(groups)]

    def metadata(self, metric: str) -> list[dict[str, str]]:
        return [{"type": "histogram", "unit": "", "help": "Duration"}]


def histogram(name: str, les: Iterable[str], **labels: str) -> list[dict[str, str]]:
    out = [{"__name__": f"{name}_bucket", "le": le, **labels} for le in les]
    out.append({"__name__": f"{name}_count", **labels})
    return out


SDK_TARGET = {"job": "otel-app", "instance": "127.0.0.1:9464"}
SERIES = [
    # The OpenTelemetry SDK scraped directly: service.name only on target_info.
    *histogram("http_server_request_duration_seconds", SECONDS_LE, http_response_status_code="200",
               **SDK_TARGET),
    {"__name__": "target_info", "service_name": "checkout", **SDK_TARGET},
    # A classic client library: the counter, and a histogram with the default buckets.
    {"__name__": "http_requests_total", "job": "billing", "instance": "10.0.0.1:8080",
     "code": "200"},
    *histogram("http_request_duration_seconds", SECONDS_LE, job="billing",
               instance="10.0.0.1:8080"),
    # A classic service with a counter only.
    {"__name__": "http_requests_total", "job": "legacy", "instance": "10.0.0.2:8080",
     "code": "500"},
    # Span metrics in ms (the connector's default), service_name on the series; client spans of
    # "mailer" only, so it is no server.
    {"__name__": "traces_span_metrics_calls_total", "service_name": "cart",
     "span_name": "GET /cart", "span_kind": "SPAN_KIND_SERVER", "status_code": "STATUS_CODE_UNSET",
     "job": "otelcol", "instance": "c:8889"},
    *histogram("traces_span_metrics_duration_milliseconds", MS_LE, service_name="cart",
               span_name="GET /cart", span_kind="SPAN_KIND_SERVER",
               status_code="STATUS_CODE_UNSET", job="otelcol", instance="c:8889"),
    *histogram("traces_span_metrics_duration_milliseconds", MS_LE, service_name="mailer",
               span_name="SMTP", span_kind="SPAN_KIND_CLIENT", status_code="STATUS_CODE_UNSET",
               job="otelcol", instance="c:8889"),
    # checkout also has span metrics: the spec reads its OpenTelemetry HTTP metrics.
    *histogram("traces_span_metrics_duration_milliseconds", MS_LE, service_name="checkout",
               span_name="GET /", span_kind="SPAN_KIND_SERVER", status_code="STATUS_CODE_UNSET",
               job="otelcol", instance="c:8889"),
    {"__name__": "traces_span_metrics_calls_total", "service_name": "checkout",
     "span_name": "GET /", "span_kind": "SPAN_KIND_SERVER", "status_code": "STATUS_CODE_UNSET",
     "job": "otelcol", "instance": "c:8889"},
    # gRPC, old semconv, with its status code label.
    *histogram("rpc_server_duration_milliseconds", MS_LE, service_name="ledger",
               rpc_grpc_status_code="0", job="otelcol", instance="c:8889"),
    # A namesake of the bare spanmetrics histogram without span labels: not span metrics.
    *histogram("duration_seconds", SECONDS_LE, job="batch", instance="b:1"),
]


def test_discover_finds_each_convention_identity_and_bounds() -> None:
    reader = FakeReader(SERIES)
    found = discover(reader, threshold=0.3)
    table = {
        (f.service, f.convention.key): (f.identity, f.label, f.has_counter,
                                        None if f.check is None else f.check.ok)
        for f in found.findings
    }
    assert table == {
        ("checkout", "otel-http"): (IdentityKind.TARGET_INFO, "service_name", True, False),
        ("checkout", "spanmetrics-ms"): (IdentityKind.LABEL, "service_name", True, True),
        ("billing", "prometheus-http"): (IdentityKind.JOB, "job", True, False),
        ("legacy", "prometheus-http"): (IdentityKind.JOB, "job", True, None),
        ("cart", "spanmetrics-ms"): (IdentityKind.LABEL, "service_name", True, True),
        ("ledger", "otel-grpc-legacy"): (IdentityKind.LABEL, "service_name", True, True),
    }
    checkout = next(f for f in found.findings if f.convention.key == "otel-http")
    assert checkout.targets == (Target("otel-app", "127.0.0.1:9464"),)
    assert checkout.check is not None
    assert checkout.check.spellings == SECONDS_LE and checkout.check.bounds[6:8] == (0.25, 0.5)
    cart = next(f for f in found.findings if f.service == "cart")
    assert cart.check is not None and cart.check.matching == ("300",)
    assert {c.convention.key for c in found.conventions} == {
        "otel-http", "prometheus-http", "spanmetrics-ms", "otel-grpc-legacy"}


def test_nothing_known_is_an_empty_discovery_after_one_request() -> None:
    reader = FakeReader([{"__name__": "up", "job": "x", "instance": "y"}])
    found = discover(reader, threshold=0.3)
    assert found.empty and reader.calls == ["names"]
    assert "http_server_request_duration_seconds_bucket" in found.looked_for
    assert "traces_span_metrics_calls_total" in found.looked_for


def test_starter_spec_loads_into_the_slos_discover_saw(tmp_path: Path) -> None:
    text = starter_spec(discover(FakeReader(SERIES), threshold=0.3))
    path = tmp_path / "starter.yaml"
    path.write_text(text)
    specs, problems = validate_paths([path])
    assert problems == []
    by_id = {s.slo_id: s for s in specs}
    assert sorted(by_id) == [
        "billing/availability", "billing/latency", "cart/availability", "cart/latency",
        "checkout/availability", "checkout/latency", "ledger/grpc-availability",
        "ledger/grpc-latency", "legacy/availability",
    ]
    checkout = by_id["checkout/latency"]
    assert checkout.identity.label == "service_name" and checkout.identity.target_info
    assert isinstance(checkout.indicator, HistogramLatency)
    assert checkout.indicator.metric == "http_server_request_duration_seconds"
    assert checkout.indicator.threshold == 0.3
    billing = by_id["billing/availability"]
    assert billing.service_label == "job" and not billing.service_from_target_info
    cart = by_id["cart/latency"]
    assert isinstance(cart.indicator, HistogramLatency) and cart.indicator.unit == 0.001
    assert cart.indicator.selector == (Matcher("span_kind", "=", "SPAN_KIND_SERVER"),)
    ledger = by_id["ledger/grpc-availability"]
    assert isinstance(ledger.indicator, MetricRatio)
    assert ledger.indicator.metric == "rpc_server_duration_milliseconds_count"
    assert ledger.indicator.error_selector == (
        Matcher("rpc_grpc_status_code", "=~", "2|4|12|13|14|15"),)


def test_starter_spec_comments_say_what_is_not_a_bound_and_how_to_fix_it() -> None:
    text = starter_spec(discover(FakeReader(SERIES), threshold=0.3))
    documents = [d for d in yaml.safe_load_all(text) if d]
    assert [d["kind"] for d in documents] == ["ServiceSLOs"] * 4 + ["SLO", "SLO"]
    assert "# checkout: 300ms (bound 0.3 in s) is not a bucket bound of " in text
    assert 'instrument_name="http.server.request.duration"' in text
    assert "# 300ms is a bucket bound (le=\"300\") for every service here." in text
    assert "# checkout also has spanmetrics-ms series" in text
    assert "# No http_request_duration_seconds_bucket series: latency is off." in text
    assert "signals:" not in text  # golden signals follow each service's SLO preset


def test_threshold_option_is_written_and_checked() -> None:
    text = starter_spec(discover(FakeReader(SERIES), threshold=0.25))
    assert "threshold: 250ms" in text
    assert "# 250ms is a bucket bound (le=\"0.25\") for every service here." in text
