"""Span error rules, trace summaries and trace id normalisation."""

from __future__ import annotations

import pytest

from sloctl.core.spans import (
    KIND_CLIENT,
    KIND_INTERNAL,
    KIND_PRODUCER,
    KIND_SERVER,
    SpanColumns,
    is_error_span,
    normalize_trace_id,
    trace_summaries,
)

MS = 1_000_000  # ns


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
