"""Span metrics in Prometheus: which queries to send, and their answers as plain values.

The collector's span_metrics connector (collector_config/otelcol.yaml) turns spans into
``traces_span_metrics_calls_total`` and ``traces_span_metrics_duration_seconds`` series labelled
``service_name``, ``span_name``, ``span_kind`` and ``status_code``. Two uses:

- after each cycle, each service's request rate and error ratio against its HTTP metrics:
  ``comparison_queries`` lists the PromQL (to run with ``PrometheusSource.query_many``, or inside
  a cycle's batch) and ``compare_results`` turns the answers into disagreements, with no I/O;
- ``sloctl traces SERVICE``: ``operation_queries`` and ``operations_from_results``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sloctl.core.signals import Signal, SignalValue
from sloctl.core.span_metrics import QUANTILES, OperationKey, OperationStats, operation_stats
from sloctl.core.trace_compare import (
    SpanComparison,
    SpanRates,
    Tolerance,
    compare_with_spans,
)
from sloctl.core.windows import window_name
from sloctl.errors import BackendError
from sloctl.sources import promql
from sloctl.sources.prometheus import QueryResult, Sample

CALLS = "traces_span_metrics_calls_total"
_SETUP_HINT = (
    "run the OpenTelemetry Collector with its span_metrics connector (collector_config/) "
    "writing to this Prometheus"
)


def comparison_queries(window: int) -> list[str]:
    """Server-span calls and failed calls per service over ``window``, in that order."""
    return [
        promql.span_calls_by_service(window),
        promql.span_calls_by_service(window, errors=True),
    ]


def _by_label(samples: Iterable[Sample], label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in samples:
        key = s.labels.get(label, "")
        out[key] = out.get(key, 0.0) + s.value
    return out


def compare_results(
    signals: Iterable[SignalValue],
    results: Mapping[str, QueryResult],
    window: int,
    tolerance: Tolerance = Tolerance(),
) -> SpanComparison:
    """Compare the HTTP ``signals`` (traffic, error ratio) with the answers to
    ``comparison_queries(window)``; a failed query or missing span metrics become problems."""
    answers: list[list[Sample]] = []
    for query in comparison_queries(window):
        result = results.get(query)
        if result is None:
            raise ValueError(f"no result for {query!r}: run comparison_queries({window}) first")
        if isinstance(result, BackendError):
            return SpanComparison(problems=(f"span metrics not compared: {result}",))
        answers.append(result)
    requests = _by_label(answers[0], "service_name")
    errors = _by_label(answers[1], "service_name")
    rates = {
        service: SpanRates.from_counts(count, errors.get(service, 0.0), window)
        for service, count in requests.items()
    }
    http = [v for v in signals if v.signal in (Signal.TRAFFIC, Signal.ERROR_RATIO)]
    busy = sorted({v.service for v in http if v.signal == Signal.TRAFFIC and v.value})
    span = window_name(window)
    if not rates:
        problem = (
            f"span metrics: no {CALLS} of server spans over {span}, so the HTTP metrics were not "
            f"compared with them; {_SETUP_HINT}"
        )
        return SpanComparison(problems=(problem,) if busy else ())
    problems = []
    missing = [s for s in busy if s not in rates]
    if missing:
        problems.append(
            f"span metrics: no server spans of {', '.join(missing)} over {span}, so their HTTP "
            "metrics were not compared; are they traced, and do their spans go through the "
            "collector?"
        )
    return SpanComparison(tuple(compare_with_spans(http, rates, tolerance)), tuple(problems))


def operation_queries(service: str, window: int) -> list[str]:
    """Calls, failed calls, then p50/p95/p99 of each operation of ``service`` over ``window``."""
    return [
        promql.span_calls_by_operation(service, window),
        promql.span_calls_by_operation(service, window, errors=True),
        *(promql.span_quantile_by_operation(q, service, window) for q in QUANTILES),
    ]


def _by_operation(samples: Sequence[Sample]) -> dict[OperationKey, float]:
    out: dict[OperationKey, float] = {}
    for s in samples:
        service, name, kind = (s.labels.get(label, "") for label in promql.SPAN_OPERATION_LABELS)
        key = (service, name, kind)
        out[key] = out.get(key, 0.0) + s.value
    return out


def operations_from_results(
    results: Mapping[str, QueryResult], service: str, window: int
) -> list[OperationStats]:
    """Per-operation stats from the answers to ``operation_queries(service, window)``.

    Raises the ``BackendError`` of the first failed query.
    """
    answers = []
    for query in operation_queries(service, window):
        result = results[query]
        if isinstance(result, BackendError):
            raise result
        answers.append(_by_operation(result))
    requests, errors, *quantiles = answers
    return operation_stats(window, requests, errors, dict(zip(QUANTILES, quantiles, strict=True)))
