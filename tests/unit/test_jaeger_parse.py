"""Parsing real Jaeger payloads (api_v3 OTLP JSON, v1 JSON) into span columns."""

from __future__ import annotations

import json

import pytest

from sloctl.core.span_stats import span_stats
from sloctl.core.spans import (
    KIND_CLIENT,
    KIND_CONSUMER,
    KIND_PRODUCER,
    KIND_SERVER,
    KIND_UNSPECIFIED,
    SpanColumns,
)
from sloctl.sources import jaeger_parse
from sloctl.sources.jaeger_parse import (
    ParseError,
    parse_api_v3_traces,
    parse_otlp_traces,
    parse_v1_traces,
)
from tests.support.fake_jaeger import attribute, fixture, otlp_span, search_answer


def test_api_v3_find_traces_fixture() -> None:
    spans = parse_api_v3_traces(fixture("jaeger/api_v3/find_traces.json"))
    assert spans.trace_id == ["00000000000000000000000000000001"]
    assert spans.span_id == ["0000000000000002"]
    assert spans.parent_span_id == [""]
    assert spans.service == ["unknown_service"]  # the fixture's resource is {}
    assert (spans.operation, spans.kind, spans.error) == (["foobar"], [KIND_SERVER], [True])
    assert (spans.start_ns, spans.duration_ns) == ([0], [0])


def test_otlp_memory_store_fixture_kinds_status_and_times() -> None:
    spans = parse_otlp_traces(fixture("otlp/jaeger_memory_store_traces_error_events_links.json"))
    assert spans.service == ["service-x"] * 4
    assert spans.kind == [KIND_SERVER, KIND_CLIENT, KIND_PRODUCER, KIND_CONSUMER]
    assert spans.error == [True] * 4  # status.code 2
    assert spans.duration_ns == [5000] * 4
    assert spans.start_ns == [1485467191639875000] * 4
    assert spans.parent_span_id == [
        "0000000000000003",
        "0000000000000010",
        "0000000000000011",
        "0000000000000010",
    ]
    assert spans.trace_id[0] == "00000000000000010000000000000000"


def test_otlp_example_ids_are_lower_cased() -> None:
    spans = parse_otlp_traces(fixture("otlp/otlp_proto_example_trace.json"))
    assert spans.trace_id == ["5b8efff798038103d269b633813fc60c"]
    assert spans.span_id == ["eee19b7ec3c1b174"]
    assert spans.parent_span_id == ["eee19b7ec3c1b173"]
    assert (spans.service, spans.duration_ns) == (["my.service"], [1_000_000_000])


def test_v1_trace_all_value_types_fixture() -> None:
    trace = json.loads(fixture("jaeger/v1_trace_all_value_types.json"))
    body = json.dumps({"data": [trace], "total": 0, "limit": 0, "offset": 0, "errors": None})
    spans = parse_v1_traces(body.encode())
    assert spans.trace_id == ["00000000000000000000000000000001"] * 5  # 16 hex, padded
    assert spans.service == ["service-x", "service-x", "service-y", "service-y", "service-y"]
    assert spans.error == [False, True, False, False, False]  # error=true tag on span 2
    # span 4: the first CHILD_OF points into another trace (00ff); the parent is 0002
    assert spans.parent_span_id == [
        "",
        "",
        "0000000000000002",
        "0000000000000002",
        "0000000000000004",
    ]
    assert spans.duration_ns == [5000, 5000, 5000, 5000, 4000]  # µs -> ns
    assert spans.kind == [KIND_UNSPECIFIED] * 5


def _same_columns(a: SpanColumns, b: SpanColumns) -> None:
    for name in (
        "trace_id",
        "span_id",
        "parent_span_id",
        "service",
        "operation",
        "kind",
        "start_ns",
        "duration_ns",
        "error",
    ):
        assert getattr(a, name) == getattr(b, name), name


def test_otlp_input_and_its_v1_conversion_parse_alike() -> None:
    """Jaeger's own paired fixtures: OTLP in, v1 JSON out (POST /api/transform)."""
    otlp = parse_otlp_traces(fixture("otlp/jaeger_transform_request_traces.json"))
    v1 = parse_v1_traces(fixture("jaeger/v1_transform_response_envelope.json"))
    _same_columns(otlp, v1)
    assert otlp.kind == [KIND_SERVER, KIND_SERVER]
    assert otlp.duration_ns == [123_000, 123_000]
    assert otlp.error == [False, False]  # status {} is unset


@pytest.mark.parametrize(
    ("kind", "attributes", "status", "expected"),
    [
        pytest.param(KIND_SERVER, {"http.response.status_code": 503}, None, True, id="server-503"),
        pytest.param(KIND_SERVER, {"http.response.status_code": 404}, None, False, id="server-404"),
        pytest.param(KIND_CLIENT, {"http.response.status_code": 404}, None, True, id="client-404"),
        pytest.param(KIND_CLIENT, {"http.status_code": 429}, None, True, id="old-name-429"),
        pytest.param(
            KIND_SERVER, {"http.status_code": "500"}, None, True, id="status-as-string-value"
        ),
        pytest.param(KIND_SERVER, {"error": True}, None, True, id="error-attr-true"),
        pytest.param(KIND_SERVER, {"error": "true"}, None, True, id="error-attr-string"),
        pytest.param(KIND_SERVER, {"error": False}, None, False, id="error-attr-false"),
        pytest.param(KIND_SERVER, {"otel.status_code": "ERROR"}, None, True, id="otel-error"),
        pytest.param(KIND_SERVER, {"url.path": "/error"}, None, False, id="unrelated-attr"),
        pytest.param(
            KIND_SERVER, {"rpc.grpc.status_code": 14}, None, False, id="grpc-status-is-not-http"
        ),
        pytest.param(
            KIND_SERVER,
            {"http.response.status_code": "x"},
            None,
            False,
            id="non-numeric-http-status",
        ),
        pytest.param(KIND_SERVER, {}, 2, True, id="status-2"),
        pytest.param(KIND_SERVER, {"http.response.status_code": 200}, 1, False, id="status-ok"),
    ],
)
def test_api_v3_error_rules_on_attributes(
    kind: int, attributes: dict[str, object], status: int | None, expected: bool
) -> None:
    span = otlp_span(
        "0" * 31 + "1", "0" * 15 + "2", "op", kind=kind, status_code=status, attributes=attributes
    )
    assert parse_api_v3_traces(search_answer([("svc", [span])])).error == [expected]


@pytest.mark.parametrize("indent", [None, 2], ids=["compact", "indented"])
def test_attribute_layouts_other_than_jaeger_compact_are_decoded(indent: int | None) -> None:
    """Value before key, or pretty-printed: the fast path misses, the full decode decides."""
    attributes = [
        {"value": {"intValue": "502"}, "key": "http.response.status_code"},
        {"key": "url.path", "value": {"stringValue": "/x"}},
    ]
    span = otlp_span("0" * 32, "0" * 16, "op", kind=KIND_SERVER)
    span["attributes"] = attributes
    body = {
        "result": {
            "resourceSpans": [
                {
                    "resource": {"attributes": [attribute("service.name", "svc")]},
                    "scopeSpans": [{"spans": [span]}],
                }
            ]
        }
    }
    assert parse_api_v3_traces(json.dumps(body, indent=indent).encode()).error == [True]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"<html>", "not an api_v3 answer", id="html"),
        pytest.param(b'{"resourceSpans": []}', 'no "result"', id="otlp-without-result"),
        pytest.param(
            b'{"result": {"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": "x"}]}]}]}}',
            "not an api_v3 answer",
            id="kind-not-int",
        ),
    ],
)
def test_api_v3_garbage_is_a_parse_error(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_api_v3_traces(body)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"not json", "not JSON", id="not-json"),
        pytest.param(b'{"data": {}}', "not a v1 envelope", id="data-not-list"),
        pytest.param(
            b'{"data": [{"spans": [{"spanID": "1"}], "processes": {}}]}',
            "malformed span",
            id="span-without-trace-id",
        ),
    ],
)
def test_v1_garbage_is_a_parse_error(body: bytes, message: str) -> None:
    with pytest.raises(ParseError, match=message):
        parse_v1_traces(body)


def test_without_the_native_scanner_arrays_come_from_msgspec_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    body = fixture("otlp/jaeger_memory_store_traces_error_events_links.json")
    native = jaeger_parse.parse_otlp_span_arrays(body)
    monkeypatch.setattr(jaeger_parse, "_otlpscan", None)
    jaeger_parse._warn_no_scanner.cache_clear()
    fallback = jaeger_parse.parse_otlp_span_arrays(body)
    jaeger_parse.parse_otlp_span_arrays(body)
    assert span_stats(fallback, 60) == span_stats(native, 60)
    assert fallback.error.tolist() == native.error.tolist()
    warnings = [r.getMessage() for r in caplog.records if "native span scanner" in r.message]
    assert len(warnings) == 1
    assert "apt install gcc python3-dev" in warnings[0]
