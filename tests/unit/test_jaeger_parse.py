"""Parsing Jaeger payloads (api_v3 OTLP JSON, v1 JSON) into span columns, and malformed ones.

Every malformed body must raise ``ParseError`` whose message starts with our own words; the
decoder's reason after the colon is msgspec's and changes between releases, so it is never pinned.
"""

from __future__ import annotations

import json
import re

import pytest

from sloctl.core.spans import (
    KIND_CLIENT,
    KIND_CONSUMER,
    KIND_PRODUCER,
    KIND_SERVER,
    KIND_UNSPECIFIED,
    SpanColumns,
)
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


# ---------------------------------------------------------------- hand-written api_v3 bodies

_TRACE_ID = "0" * 31 + "1"
_SPAN_ID = "0" * 15 + "2"


def _span_json(*members: str, kind: str = "2") -> str:
    """One SERVER span object with ids and ``kind``, then ``members``."""
    head = [f'"traceId":"{_TRACE_ID}"', f'"spanId":"{_SPAN_ID}"', f'"kind":{kind}']
    return "{" + ",".join([*head, *members]) + "}"


_SPAN = _span_json('"name":"foobar"')


def _answer(*spans: str, extra: str = "") -> bytes:
    """An api_v3 answer with one resource holding ``spans``; ``extra`` members after TracesData."""
    traces = '{"resourceSpans":[{"scopeSpans":[{"spans":[' + ",".join(spans) + "]}]}]}"
    return ('{"result":' + traces + extra + "}").encode()


def _one_span(*members: str, kind: str = "2") -> bytes:
    return _answer(_span_json(*members, kind=kind))


def _skipped(value: str) -> bytes:
    """One span, then an unknown member with the JSON ``value`` (not read, still validated)."""
    return _answer(_SPAN, extra=',"x":' + value)


def _http(value: str) -> bytes:
    """One SERVER span whose http.status_code attribute has the AnyValue ``value``."""
    return _one_span(f'"attributes":[{{"key":"http.status_code","value":{value}}}]')


def _http_text(text: str) -> bytes:
    return _http(json.dumps({"stringValue": text}))


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def _bad_utf8(body: bytes) -> bytes:
    """``body`` with its "@" replaced by a byte that is never valid UTF-8."""
    return body.replace(b"@", b"\xff")


_OURS = r'^not an api_v3 (answer \{"result": TracesData\}: |traces answer: no "result" object$)'


def _rejected(body: bytes) -> str:
    """The ParseError message of ``body``, checked to start with our own words."""
    with pytest.raises(ParseError) as caught:
        parse_api_v3_traces(body)
    message = str(caught.value)
    assert re.match(_OURS, message), message
    return message


def test_every_prefix_of_the_find_traces_fixture_is_a_parse_error() -> None:
    """A body cut anywhere (a dropped connection) is rejected, never half-read."""
    body = fixture("jaeger/api_v3/find_traces.json").rstrip(b" \t\n\r")
    assert len(parse_api_v3_traces(body)) == 1  # the whole document is fine
    for end in range(len(body)):
        try:
            _rejected(body[:end])
        except BaseException as exc:  # name the prefix, not just "did not raise"
            raise AssertionError(f"prefix of {end} bytes: {body[:end][-60:]!r}") from exc


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty-body"),
        pytest.param(_skipped('"abc'), id="unterminated-string"),
        pytest.param(_skipped(_nested(10_000)), id="nesting-10000-deep"),
        pytest.param(b'{"result": null}', id="result-null"),
        pytest.param(b'{"results": {"resourceSpans": []}}', id="missing-result"),
        pytest.param(b"[" + _answer(_SPAN) + b"]", id="top-level-array"),
        pytest.param(_answer(_SPAN) + b" x", id="trailing-garbage"),
        pytest.param(_answer(_SPAN) + b"{}", id="second-document"),
        pytest.param(_skipped('"a\\xb"'), id="bad-escape"),
        pytest.param(_skipped('"\\u12g4"'), id="bad-unicode-escape"),
        pytest.param(_skipped('"tab\there"'), id="raw-control-char"),
        pytest.param(_one_span('"name":"foo\nbar"'), id="raw-newline-in-span-name"),
        pytest.param(_skipped("01"), id="leading-zero"),
        pytest.param(_skipped("1."), id="no-fraction-digits"),
        pytest.param(_skipped(".5"), id="no-integer-digits"),
        pytest.param(_skipped("-"), id="lone-minus"),
        pytest.param(_skipped("1e"), id="no-exponent-digits"),
        pytest.param(_skipped("+1"), id="plus-sign"),
        pytest.param(_skipped("tru"), id="truncated-literal"),
        pytest.param(_one_span('"name":"\\ud800x"'), id="lone-surrogate-in-span-name"),
        pytest.param(_bad_utf8(_one_span('"name":"@"')), id="bad-utf8-in-span-name"),
        pytest.param(_one_span('"attributes":{}'), id="attributes-object"),
        pytest.param(_one_span('"attributes":[{"value":{}}]'), id="keyvalue-without-key"),
        pytest.param(_one_span('"attributes":[5]'), id="keyvalue-not-an-object"),
        pytest.param(_one_span(kind="null"), id="null-kind"),
        pytest.param(_one_span('"startTimeUnixNano":null'), id="null-start"),
        pytest.param(b'{"result":{"resourceSpans":null}}', id="null-resource-spans"),
        pytest.param(_http('{"intValue":"0500"}'), id="intValue-leading-zero"),
        pytest.param(_one_span('"startTimeUnixNano":"007"'), id="start-leading-zero"),
        pytest.param(_one_span('"startTimeUnixNano":"x"'), id="start-not-a-number"),
    ],
)
def test_malformed_answers_are_parse_errors_in_our_words(body: bytes) -> None:
    _rejected(body)


def test_too_deep_nesting_says_so() -> None:
    message = _rejected(_answer(_SPAN, extra=',"x":' + _nested(10_000)))
    assert message.endswith(": JSON nested too deeply")


def test_otlp_documents_have_their_own_prefix() -> None:
    with pytest.raises(ParseError, match=r"^not OTLP/JSON TracesData: "):
        parse_otlp_traces(_bad_utf8(b'{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":"@"}]}]}]}'))


@pytest.mark.parametrize(
    ("body", "error"),
    [
        # An HTTP status string is ASCII digits with optional ASCII whitespace around them.
        pytest.param(_http_text(" \t500\r\n"), True, id="ascii-blanks-around"),
        pytest.param(_http_text("\v500\f"), True, id="vertical-tab-form-feed"),
        pytest.param(_http_text("٥٠٠"), False, id="arabic-indic-digits"),
        pytest.param(_http_text("５００"), False, id="fullwidth-digits"),
        pytest.param(_http_text("5²"), False, id="superscript-digit"),
        pytest.param(_http_text("\u00a0500"), False, id="no-break-space"),
        pytest.param(_http_text("+500"), False, id="plus-sign"),
        # Integers as decimal strings (OTLP/JSON's int64), and values that are no status.
        pytest.param(_http('{"intValue":"500"}'), True, id="intValue-string"),
        pytest.param(_http('{"intValue":"-500"}'), False, id="negative-intValue"),
        pytest.param(_http('{"intValue":"9223372036854775807"}'), True, id="intValue-int64-max"),
        pytest.param(_http('{"intValue":null}'), False, id="null-intValue"),
        pytest.param(_http("null"), False, id="null-value"),
        pytest.param(_one_span('"status":{"code":"2"}'), True, id="status-code-as-string"),
        # Unknown members may repeat; invalid UTF-8 or deep nesting where nothing is read is fine.
        pytest.param(_one_span('"x":1,"x":2,"spans":1,"spans":2'), False, id="repeated-unknown"),
        pytest.param(_bad_utf8(_skipped('"@"')), False, id="bad-utf8-unknown-member"),
        pytest.param(_skipped(_nested(255)), False, id="nesting-256-deep"),
    ],
)
def test_edge_inputs_that_parse(body: bytes, error: bool) -> None:
    assert parse_api_v3_traces(body).error == [error]
