"""Parse Jaeger answers: api_v3 OTLP JSON and v1 trace JSON (reference backends.md 3.4-3.6).

msgspec decodes api_v3 bodies straight into the few fields sloctl reads (64-bit integers arrive
as strings and are converted by its lax mode) and gives ``SpanColumns``. Jaeger is read for a
few traces at a time (exemplars, ``sloctl traces --slow``), so this needs no faster route. Every
malformed body is a ``ParseError`` whose message starts with what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from sloctl.core.spans import (
    KIND_BY_NAME,
    KIND_CLIENT,
    KIND_SERVER,
    KIND_UNSPECIFIED,
    STATUS_CODE_ERROR,
    SpanColumns,
    is_error_span,
    normalize_trace_id,
)

# Attributes that can make a span an error (besides status.code).
_ERROR_KEYS = frozenset({"error", "otel.status_code"})
_HTTP_STATUS_KEYS = frozenset({"http.response.status_code", "http.status_code"})
_HTTP_KINDS = frozenset({KIND_SERVER, KIND_CLIENT})


class ParseError(ValueError):
    """The payload is not the documented Jaeger/OTLP JSON; the message says which part."""


class _AnyValue(msgspec.Struct, gc=False):
    stringValue: str | None = None
    boolValue: bool | None = None
    intValue: int | None = None
    doubleValue: float | None = None

    def scalar(self) -> object:
        if self.stringValue is not None:
            return self.stringValue
        if self.intValue is not None:
            return self.intValue
        if self.boolValue is not None:
            return self.boolValue
        return self.doubleValue


class _KeyValue(msgspec.Struct, gc=False):
    key: str
    value: _AnyValue | None = None


class _Status(msgspec.Struct, gc=False):
    code: int = 0


class _Span(msgspec.Struct, gc=False):
    traceId: str = ""
    spanId: str = ""
    parentSpanId: str = ""
    name: str = ""
    kind: int = 0
    startTimeUnixNano: int = 0
    endTimeUnixNano: int = 0
    attributes: list[_KeyValue] = []
    status: _Status | None = None


class _ScopeSpans(msgspec.Struct, gc=False):
    spans: list[_Span] = []


class _Resource(msgspec.Struct, gc=False):
    attributes: list[_KeyValue] = []


class _ResourceSpans(msgspec.Struct, gc=False):
    resource: _Resource | None = None
    scopeSpans: list[_ScopeSpans] = []


class _TracesData(msgspec.Struct, gc=False):
    resourceSpans: list[_ResourceSpans] = []


class _SearchAnswer(msgspec.Struct, gc=False):
    result: _TracesData | None = None


_TRACES_DECODER = msgspec.json.Decoder(_TracesData, strict=False)
_SEARCH_DECODER = msgspec.json.Decoder(_SearchAnswer, strict=False)


# msgspec raises DecodeError for bad JSON, UnicodeDecodeError for bad UTF-8 in a string and
# RecursionError for absurdly deep nesting: all are a malformed answer.
_DECODE_ERRORS = (msgspec.DecodeError, ValueError, RecursionError)


def _reason(exc: BaseException) -> str:
    return "JSON nested too deeply" if isinstance(exc, RecursionError) else str(exc)


def _service_name(resource: _Resource | None) -> str:
    if resource is not None:
        for kv in resource.attributes:
            if kv.key == "service.name" and kv.value is not None and kv.value.stringValue:
                return kv.value.stringValue
    return "unknown_service"


def _attributes_error(kind: int, attributes: list[_KeyValue]) -> bool:
    error_tag: object = None
    otel_status: object = None
    http_status: object = None
    for kv in attributes:
        key = kv.key
        if key in _ERROR_KEYS:
            value = kv.value.scalar() if kv.value is not None else None
            if key == "error":
                error_tag = value
            else:
                otel_status = value
        elif key in _HTTP_STATUS_KEYS and kind in _HTTP_KINDS and kv.value is not None:
            http_status = kv.value.scalar()
    if error_tag is None and otel_status is None and http_status is None:
        return False
    return is_error_span(kind, 0, error_tag, otel_status, http_status)


def _append_traces(data: _TracesData, out: SpanColumns) -> None:
    flat: list[_Span] = []
    services = out.service
    for rs in data.resourceSpans:
        service = _service_name(rs.resource)
        for ss in rs.scopeSpans:
            spans = ss.spans
            flat += spans
            services += [service] * len(spans)
    # One comprehension per column: far cheaper than nine appends per span.
    out.trace_id += [sp.traceId.lower() for sp in flat]
    out.span_id += [sp.spanId.lower() for sp in flat]
    out.parent_span_id += [sp.parentSpanId.lower() for sp in flat]
    out.operation += [sp.name for sp in flat]
    out.kind += [sp.kind for sp in flat]
    out.start_ns += [sp.startTimeUnixNano for sp in flat]
    out.duration_ns += [
        d if (d := sp.endTimeUnixNano - sp.startTimeUnixNano) > 0 else 0 for sp in flat
    ]
    error_code = STATUS_CODE_ERROR
    out.error += [
        True
        if sp.status is not None and sp.status.code == error_code
        else bool(sp.attributes) and _attributes_error(sp.kind, sp.attributes)
        for sp in flat
    ]


def parse_otlp_traces(body: bytes, out: SpanColumns | None = None) -> SpanColumns:
    """Spans of an OTLP/JSON ``TracesData`` document (``{"resourceSpans": [...]}``)."""
    out = SpanColumns() if out is None else out
    try:
        data = _TRACES_DECODER.decode(body)
    except _DECODE_ERRORS as exc:
        raise ParseError(f"not OTLP/JSON TracesData: {_reason(exc)}") from None
    _append_traces(data, out)
    return out


def parse_api_v3_traces(body: bytes, out: SpanColumns | None = None) -> SpanColumns:
    """Spans of an api_v3 ``GET /api/v3/traces[/{id}]`` answer (``{"result": TracesData}``)."""
    out = SpanColumns() if out is None else out
    try:
        answer = _SEARCH_DECODER.decode(body)
    except _DECODE_ERRORS as exc:
        raise ParseError(f'not an api_v3 answer {{"result": TracesData}}: {_reason(exc)}') from None
    if answer.result is None:
        raise ParseError('not an api_v3 traces answer: no "result" object')
    _append_traces(answer.result, out)
    return out


def _tag_map(tags: object) -> dict[str, object]:
    if not isinstance(tags, list):
        return {}
    return {t["key"]: t.get("value") for t in tags if isinstance(t, dict) and "key" in t}


def append_v1_trace(trace: Mapping[str, Any], out: SpanColumns) -> None:
    """Add the spans of one v1 trace object (``data[i]`` of ``/api/traces/{id}``) to ``out``."""
    processes = trace.get("processes") or {}
    if not isinstance(processes, dict):
        raise ParseError("v1 trace: 'processes' is not an object")
    for span in trace.get("spans") or []:
        if not isinstance(span, dict):
            raise ParseError("v1 trace: a span is not an object")
        try:
            trace_id = normalize_trace_id(str(span["traceID"]))
            process = processes.get(span.get("processID"), {})
            tags = _tag_map(span.get("tags"))
            kind = KIND_BY_NAME.get(str(tags.get("span.kind", "")), KIND_UNSPECIFIED)
            parent = ""
            for ref in span.get("references") or []:
                if ref.get("refType") == "CHILD_OF" and (
                    normalize_trace_id(str(ref.get("traceID", ""))) == trace_id
                ):
                    parent = str(ref["spanID"]).lower()
                    break
            http_status = tags.get("http.response.status_code", tags.get("http.status_code"))
            out.append(
                trace_id=trace_id,
                span_id=str(span["spanID"]).lower(),
                parent_span_id=parent,
                service=str(process.get("serviceName") or "unknown_service"),
                operation=str(span.get("operationName", "")),
                kind=kind,
                start_ns=int(span.get("startTime", 0)) * 1000,
                duration_ns=int(span.get("duration", 0)) * 1000,
                error=is_error_span(
                    kind, 0, tags.get("error"), tags.get("otel.status_code"), http_status
                ),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ParseError(f"v1 trace: malformed span {span.get('spanID')!r}: {exc}") from None


def parse_v1_traces(body: bytes) -> SpanColumns:
    """Spans of a v1 envelope ``{"data": [trace, ...], ...}`` (``GET /api/traces/{id}``)."""
    try:
        envelope = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ParseError(f"not JSON: {exc}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), list):
        raise ParseError('not a v1 envelope: expected {"data": [trace, ...], ...}')
    out = SpanColumns()
    for trace in envelope["data"]:
        if not isinstance(trace, dict):
            raise ParseError("v1 envelope: a trace in 'data' is not an object")
        append_v1_trace(trace, out)
    return out
