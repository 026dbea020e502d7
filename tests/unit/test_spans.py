"""Span statistics, error rules, dependency graph, trace summaries and trace id normalisation."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sloctl.core.span_stats import span_stats
from sloctl.core.spans import (
    KIND_CLIENT,
    KIND_CONSUMER,
    KIND_INTERNAL,
    KIND_PRODUCER,
    KIND_SERVER,
    DependencyEdge,
    LatencyStats,
    SpanColumns,
    is_error_span,
    normalize_trace_id,
    quantile,
    trace_summaries,
)

MS = 1_000_000  # ns


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        pytest.param([7], 0.99, 7.0, id="single-value"),
        pytest.param([1, 2, 3, 4], 0.5, 2.5, id="median-between-two"),
        pytest.param([10, 20, 30, 40], 0.95, 38.5, id="p95-of-four"),
        pytest.param([10, 20, 30, 40], 0.99, 39.7, id="p99-of-four"),
        pytest.param(list(range(1, 101)), 0.95, 95.05, id="p95-of-1-to-100"),
        pytest.param([3, 5], 0.0, 3.0, id="q0-is-min"),
        pytest.param([3, 5], 1.0, 5.0, id="q1-is-max"),
    ],
)
def test_quantile_interpolates_linearly(values: list[int], q: float, expected: float) -> None:
    assert quantile(values, q) == pytest.approx(expected)


def test_quantile_rejects_empty_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="no values"):
        quantile([], 0.5)
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        quantile([1], 1.5)


@pytest.mark.parametrize(
    ("kind", "status", "error_tag", "otel", "http", "expected"),
    [
        pytest.param(KIND_INTERNAL, 0, None, None, None, False, id="plain-span-ok"),
        pytest.param(KIND_SERVER, 2, None, None, None, True, id="otlp-status-code-2"),
        pytest.param(KIND_SERVER, 1, None, None, None, False, id="otlp-status-ok"),
        pytest.param(KIND_INTERNAL, 0, True, None, None, True, id="error-tag-bool-true"),
        pytest.param(KIND_INTERNAL, 0, "true", None, None, True, id="error-tag-string-true"),
        pytest.param(KIND_INTERNAL, 0, "TRUE", None, None, True, id="error-tag-string-upper"),
        pytest.param(KIND_INTERNAL, 0, False, None, None, False, id="error-tag-false"),
        pytest.param(KIND_INTERNAL, 0, "false", None, None, False, id="error-tag-string-false"),
        pytest.param(KIND_INTERNAL, 0, None, "ERROR", None, True, id="otel-status-error"),
        pytest.param(KIND_INTERNAL, 0, None, "OK", None, False, id="otel-status-ok"),
        pytest.param(KIND_SERVER, 0, None, None, 500, True, id="server-500"),
        pytest.param(KIND_SERVER, 0, None, None, 503, True, id="server-503"),
        pytest.param(KIND_SERVER, 0, None, None, 404, False, id="server-404-is-not-an-error"),
        pytest.param(KIND_SERVER, 0, None, None, 200, False, id="server-200"),
        pytest.param(KIND_CLIENT, 0, None, None, 404, True, id="client-404"),
        pytest.param(KIND_CLIENT, 0, None, None, 400, True, id="client-400"),
        pytest.param(KIND_CLIENT, 0, None, None, 502, True, id="client-502"),
        pytest.param(KIND_CLIENT, 0, None, None, 302, False, id="client-302"),
        pytest.param(KIND_SERVER, 0, None, None, "503", True, id="server-503-as-string"),
        pytest.param(KIND_INTERNAL, 0, None, None, 500, False, id="internal-500-ignored"),
        pytest.param(KIND_PRODUCER, 0, None, None, 500, False, id="producer-500-ignored"),
        pytest.param(KIND_SERVER, 0, None, None, "n/a", False, id="server-non-numeric-status"),
    ],
)
def test_error_rules(
    kind: int, status: int, error_tag: object, otel: object, http: object, expected: bool
) -> None:
    assert is_error_span(kind, status, error_tag, otel, http) is expected


def _shop() -> SpanColumns:
    """api: 4 GET /a server spans (10/20/30/40 ms, one 500) calling db through a client span.

    Trace t1: api GET /a (root) -> api client "SELECT" -> db server "query".
    Traces t2..t4: api GET /a alone. t5: a db span whose parent is missing (partial trace).
    """
    spans = SpanColumns()
    for n, (duration, error) in enumerate([(10, False), (40, True), (20, False), (30, False)]):
        spans.append(
            trace_id=f"t{n + 1}",
            span_id="a",
            service="api",
            operation="GET /a",
            kind=KIND_SERVER,
            start_ns=n * 1000 * MS,
            duration_ns=duration * MS,
            error=error,
        )
    spans.append(
        trace_id="t1",
        span_id="b",
        parent_span_id="a",
        service="api",
        operation="SELECT",
        kind=KIND_CLIENT,
        start_ns=1 * MS,
        duration_ns=8 * MS,
    )
    spans.append(
        trace_id="t1",
        span_id="c",
        parent_span_id="b",
        service="db",
        operation="query",
        kind=KIND_SERVER,
        start_ns=2 * MS,
        duration_ns=6 * MS,
    )
    spans.append(
        trace_id="t5",
        span_id="d",
        parent_span_id="zz",
        service="db",
        operation="query",
        kind=KIND_SERVER,
        start_ns=0,
        duration_ns=2 * MS,
        error=True,
    )
    return spans


def test_operation_stats_match_hand_computed_values() -> None:
    stats = span_stats(_shop(), window_seconds=60)
    by_op = {(o.service, o.operation): o for o in stats.operations}
    get_a = by_op[("api", "GET /a")]
    assert get_a.kind == "server"
    assert get_a.stats.requests == 4
    assert get_a.stats.errors == 1
    assert get_a.stats.error_ratio == 0.25
    assert get_a.stats.rate_per_second == pytest.approx(4 / 60)
    assert get_a.stats.p50_seconds == pytest.approx(0.025)
    assert get_a.stats.p95_seconds == pytest.approx(0.0385)
    assert get_a.stats.p99_seconds == pytest.approx(0.0397)
    select = by_op[("api", "SELECT")]
    assert (select.kind, select.stats.requests, select.stats.p99_seconds) == ("client", 1, 0.008)
    query = by_op[("db", "query")]
    assert (query.stats.requests, query.stats.errors, query.stats.p50_seconds) == (2, 1, 0.004)
    assert stats.span_count == 7


def test_service_stats_count_entry_spans_only() -> None:
    stats = span_stats(_shop(), window_seconds=60)
    api = stats.service("api")
    assert api is not None
    # the client span "SELECT" has a parent and is not a server span: not a request of api
    assert (api.stats.requests, api.stats.errors, api.operations) == (4, 1, 2)
    db = stats.service("db")
    assert db is not None
    assert (db.stats.requests, db.stats.error_ratio) == (2, 0.5)
    assert stats.service("nope") is None


def test_root_internal_and_consumer_spans_are_entries() -> None:
    spans = SpanColumns()
    spans.append(
        trace_id="t",
        span_id="1",
        service="cron",
        operation="tick",
        kind=KIND_INTERNAL,
        duration_ns=MS,
    )
    spans.append(
        trace_id="t",
        span_id="2",
        parent_span_id="1",
        service="cron",
        operation="step",
        kind=KIND_INTERNAL,
        duration_ns=MS,
    )
    spans.append(
        trace_id="u",
        span_id="3",
        parent_span_id="9",
        service="worker",
        operation="consume",
        kind=KIND_CONSUMER,
        duration_ns=MS,
    )
    stats = span_stats(spans, window_seconds=10)
    assert [(s.service, s.stats.requests) for s in stats.services] == [("cron", 1), ("worker", 1)]


def test_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window_seconds"):
        span_stats(_shop(), 0)


def test_dependency_graph_counts_cross_service_calls() -> None:
    spans = _shop()
    # two more calls api -> db and one db -> cache, in trace t2
    spans.append(
        trace_id="t2",
        span_id="e",
        parent_span_id="a",
        service="db",
        operation="query",
        kind=KIND_SERVER,
        duration_ns=MS,
    )
    spans.append(
        trace_id="t2",
        span_id="f",
        parent_span_id="a",
        service="db",
        operation="query",
        kind=KIND_SERVER,
        duration_ns=MS,
    )
    spans.append(
        trace_id="t2",
        span_id="g",
        parent_span_id="f",
        service="cache",
        operation="get",
        kind=KIND_SERVER,
        duration_ns=MS,
    )
    # same span id in another trace is not a parent
    spans.append(
        trace_id="t9",
        span_id="h",
        parent_span_id="a",
        service="cache",
        operation="get",
        kind=KIND_SERVER,
        duration_ns=MS,
    )
    assert span_stats(spans, 60).dependencies == (
        DependencyEdge("api", "db", 3),
        DependencyEdge("db", "cache", 1),
    )


def test_trace_summaries_find_root_extent_and_errors() -> None:
    summaries = {s.trace_id: s for s in trace_summaries(_shop())}
    t1 = summaries["t1"]
    assert (t1.root_service, t1.root_operation, t1.span_count) == ("api", "GET /a", 3)
    assert (t1.start_ns, t1.duration_ns, t1.error_count) == (0, 10 * MS, 0)
    assert t1.services == ("api", "db")
    assert summaries["t2"].error_count == 1
    t5 = summaries["t5"]  # parent missing: the orphan is the root
    assert (t5.root_service, t5.root_operation, t5.error_count) == ("db", "query", 1)
    assert list(summaries) == ["t1", "t2", "t3", "t4", "t5"]


def test_trace_summaries_count_errors_of_one_service() -> None:
    by_service = {s.trace_id: s.error_count for s in trace_summaries(_shop(), service="api")}
    assert by_service == {"t1": 0, "t2": 1, "t3": 0, "t4": 0, "t5": 0}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param("0000000000000001", "00000000000000000000000000000001", id="v1-16-hex"),
        pytest.param(
            "00000000000000000000000000000001",
            "00000000000000000000000000000001",
            id="32-hex-unchanged",
        ),
        pytest.param(
            "5B8EFFF798038103D269B633813FC60C",
            "5b8efff798038103d269b633813fc60c",
            id="upper-case-lowered",
        ),
        pytest.param(" 83a9efd15c1c98a9 ", "000000000000000083a9efd15c1c98a9", id="stripped"),
        pytest.param("ff", "000000000000000000000000000000ff", id="short-padded"),
    ],
)
def test_normalize_trace_id(given: str, expected: str) -> None:
    assert normalize_trace_id(given) == expected


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param("", id="empty"),
        pytest.param("xyz", id="not-hex"),
        pytest.param("0" * 33, id="33-chars"),
        pytest.param("83a9efd1-5c1c-98a9", id="dashes"),
    ],
)
def test_normalize_trace_id_rejects_bad_ids_with_the_fix(bad: str) -> None:
    with pytest.raises(ValueError, match="use 16 or 32 hexadecimal characters"):
        normalize_trace_id(bad)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["api", "db", "web"]),
            st.sampled_from(["GET /a", "POST /b", "query"]),
            st.sampled_from([KIND_SERVER, KIND_CLIENT, KIND_INTERNAL]),
            st.integers(min_value=0, max_value=10**12),
            st.booleans(),
            st.booleans(),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_span_stats_equal_a_plain_sort_and_quantile(
    rows: list[tuple[str, str, int, int, bool, bool]],
) -> None:
    """The numpy grouping equals sorting each group in Python and applying ``quantile``."""
    spans = SpanColumns()
    for i, (service, operation, kind, duration, error, root) in enumerate(rows):
        spans.append(
            trace_id="t",
            span_id=f"s{i}",
            parent_span_id="" if root else "elsewhere",
            service=service,
            operation=operation,
            kind=kind,
            duration_ns=duration,
            error=error,
        )
    stats = span_stats(spans, window_seconds=7)
    groups: dict[tuple[str, str, str], list[tuple[int, bool]]] = {}
    entries: dict[str, list[tuple[int, bool]]] = {}
    for service, operation, kind, duration, error, root in rows:
        kind_name = {KIND_SERVER: "server", KIND_CLIENT: "client", KIND_INTERNAL: "internal"}
        groups.setdefault((service, operation, kind_name[kind]), []).append((duration, error))
        if kind == KIND_SERVER or root:
            entries.setdefault(service, []).append((duration, error))

    def expected(values: list[tuple[int, bool]]) -> tuple[int, int, float, float, float]:
        durations = sorted(d for d, _ in values)
        p50, p95, p99 = (quantile(durations, q) / 1e9 for q in (0.5, 0.95, 0.99))
        return len(values), sum(e for _, e in values), p50, p95, p99

    def got(s: LatencyStats) -> tuple[int, int, float, float, float]:
        return (s.requests, s.errors, s.p50_seconds, s.p95_seconds, s.p99_seconds)

    assert {(o.service, o.operation, o.kind): got(o.stats) for o in stats.operations} == {
        key: expected(values) for key, values in groups.items()
    }
    assert {s.service: got(s.stats) for s in stats.services} == {
        name: expected(values) for name, values in entries.items()
    }
