"""Span metrics in Prometheus: the PromQL sloctl sends, and its answers turned into values."""

from __future__ import annotations

import pytest

from sloctl.core.signals import Signal, SignalValue
from sloctl.core.span_metrics import OperationStats
from sloctl.errors import BackendUnreachable
from sloctl.sources.prometheus import QueryResult, Sample
from sloctl.sources.span_metrics import (
    compare_results,
    comparison_queries,
    operation_queries,
    operations_from_results,
)

CALLS = "traces_span_metrics_calls_total"
QUANTILES = ("0.5", "0.95", "0.99")
SERVER = 'span_kind="SPAN_KIND_SERVER"'
ERRORS = 'status_code=~"STATUS_CODE_ERROR"'


def test_comparison_queries_group_server_spans_by_service() -> None:
    assert comparison_queries(300) == [
        f"sum by (service_name) (increase({CALLS}{{{SERVER}}}[5m]))",
        f"sum by (service_name) (increase({CALLS}{{{SERVER},{ERRORS}}}[5m]))",
    ]


def test_operation_queries_filter_one_service_escaped_and_group_by_operation() -> None:
    service = 'pay"ment\\'
    selector = 'service_name="pay\\"ment\\\\"'
    by = "service_name, span_name, span_kind"
    buckets = f"rate(traces_span_metrics_duration_seconds_bucket{{{selector}}}[1h])"
    assert operation_queries(service, 3600) == [
        f"sum by ({by}) (increase({CALLS}{{{selector}}}[1h]))",
        f"sum by ({by}) (increase({CALLS}{{{selector},{ERRORS}}}[1h]))",
        *(f"histogram_quantile({q}, sum by (le, {by}) ({buckets}))" for q in QUANTILES),
    ]


def _samples(*rows: tuple[dict[str, str], float]) -> list[Sample]:
    return [Sample(labels, value) for labels, value in rows]


def _comparison_results(requests: list[Sample], errors: list[Sample]) -> dict[str, QueryResult]:
    calls, failed = comparison_queries(300)
    return {calls: requests, failed: errors}


# HTTP golden signals over 5m: checkout 1 req/s with 10 % errors, cart 2 req/s, idle 0 req/s.
HTTP = [
    SignalValue("checkout", Signal.TRAFFIC, 1.0),
    SignalValue("checkout", Signal.ERROR_RATIO, 0.1),
    SignalValue("checkout", Signal.LATENCY_P95, 0.2),
    SignalValue("cart", Signal.TRAFFIC, 2.0),
    SignalValue("cart", Signal.ERROR_RATIO, 0.0),
    SignalValue("idle", Signal.TRAFFIC, 0.0),
]


def test_compare_results_agreeing_services_and_a_missing_one() -> None:
    results = _comparison_results(
        _samples(({"service_name": "checkout"}, 300.0), ({"service_name": "other"}, 5.0)),
        _samples(({"service_name": "checkout"}, 30.0)),
    )
    found = compare_results(HTTP, results, 300)
    assert found.disagreements == ()
    assert found.problems == (
        "span metrics: no server spans of cart over 5m, so their HTTP metrics were not "
        "compared; are they traced, and do their spans go through the collector?",
    )


def test_compare_results_half_the_calls_and_no_errors_disagree() -> None:
    results = _comparison_results(
        _samples(({"service_name": "checkout"}, 150.0), ({"service_name": "cart"}, 600.0)), []
    )
    found = compare_results(HTTP, results, 300)
    assert [(d.service, d.signal, d.http, d.spans) for d in found.disagreements] == [
        ("checkout", Signal.TRAFFIC, 1.0, 0.5),
        ("checkout", Signal.ERROR_RATIO, 0.1, 0.0),
    ]
    assert found.problems == ()


def test_no_span_metrics_at_all_is_one_problem_with_the_fix() -> None:
    found = compare_results(HTTP, _comparison_results([], []), 300)
    assert found.disagreements == ()
    assert found.problems == (
        f"span metrics: no {CALLS} of server spans over 5m, so the HTTP metrics were not "
        "compared with them; run the OpenTelemetry Collector with its span_metrics connector "
        "(collector_config/) writing to this Prometheus",
    )
    assert compare_results([], _comparison_results([], []), 300).problems == ()  # no traffic


def test_a_failed_query_is_a_problem_not_an_exception() -> None:
    down = BackendUnreachable("prometheus", "cannot connect to http://127.0.0.1:1")
    results = _comparison_results(down, [])  # type: ignore[arg-type]
    found = compare_results(HTTP, results, 300)
    assert found.disagreements == ()
    assert found.problems == (
        "span metrics not compared: prometheus: cannot connect to http://127.0.0.1:1",
    )


def test_results_of_other_queries_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match=r"run comparison_queries\(300\) first"):
        compare_results(HTTP, {}, 300)


BANK = ("POST /bank", "SPAN_KIND_CLIENT")


def _op(name: str, kind: str = "SPAN_KIND_SERVER") -> dict[str, str]:
    return {"service_name": "payment", "span_name": name, "span_kind": kind}


def test_operations_from_results() -> None:
    calls, failed, p50, p95, p99 = operation_queries("payment", 3600)
    results: dict[str, QueryResult] = {
        calls: _samples((_op("POST /charge"), 7200.0), (_op(*BANK), 360.0)),
        failed: _samples((_op("POST /charge"), 72.0)),
        p50: _samples((_op("POST /charge"), 0.1)),
        p95: _samples((_op("POST /charge"), 0.65), (_op(*BANK), 0.3)),
        p99: _samples((_op("POST /charge"), 0.93)),
    }
    assert operations_from_results(results, "payment", 3600) == [
        OperationStats("payment", "POST /charge", "server", 3600, 7200.0, 72.0, 0.1, 0.65, 0.93),
        OperationStats("payment", "POST /bank", "client", 3600, 360.0, 0.0, None, 0.3, None),
    ]


def test_operations_from_results_raises_the_backend_error() -> None:
    queries = operation_queries("payment", 3600)
    down = BackendUnreachable("prometheus", "cannot connect")
    results: dict[str, QueryResult] = {q: [] for q in queries} | {queries[2]: down}
    with pytest.raises(BackendUnreachable, match="cannot connect"):
        operations_from_results(results, "payment", 3600)
