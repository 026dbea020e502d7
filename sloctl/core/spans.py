"""Spans from Jaeger: error rules, trace ids, ``SpanColumns``, trace summaries, dependency edges.

Spans arrive as ``SpanColumns`` (parallel lists, one entry per span). Jaeger is read only for
exemplars and trace detail: per-operation statistics come from span metrics
(``sloctl.core.span_metrics``).

Error rules (reference backends.md 3.5): a span is in error when its ``error`` tag is true (or
the string ``"true"``), its ``otel.status_code`` tag is ``ERROR``, its OTLP ``status.code`` is 2,
a SERVER span's HTTP status is 5xx, or a CLIENT span's HTTP status is 4xx or 5xx.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# OTLP SpanKind numbers (api_v3 sends them as integers).
KIND_UNSPECIFIED = 0
KIND_INTERNAL = 1
KIND_SERVER = 2
KIND_CLIENT = 3
KIND_PRODUCER = 4
KIND_CONSUMER = 5
KIND_NAMES = {
    0: "unspecified",
    1: "internal",
    2: "server",
    3: "client",
    4: "producer",
    5: "consumer",
}
KIND_BY_NAME = {name: number for number, name in KIND_NAMES.items()}
STATUS_CODE_ERROR = 2


def is_error_span(
    kind: int,
    status_code: int = 0,
    error_tag: object = None,
    otel_status_code: object = None,
    http_status: object = None,
) -> bool:
    """Whether one span counts as failed under the rules in the module docstring.

    ``http_status`` is ``http.response.status_code`` (or the older ``http.status_code``) as an
    int or a string of ASCII digits (surrounding ASCII whitespace allowed); anything else is
    ignored.
    """
    if status_code == STATUS_CODE_ERROR or otel_status_code == "ERROR":
        return True
    if error_tag is True or (isinstance(error_tag, str) and error_tag.lower() == "true"):
        return True
    if http_status is None or kind not in (KIND_SERVER, KIND_CLIENT):
        return False
    if isinstance(http_status, int):
        code = http_status
    elif isinstance(http_status, str) and _is_ascii_number(text := http_status.strip(_ASCII_SPACE)):
        code = int(text)
    else:
        return False
    return code >= 500 if kind == KIND_SERVER else code >= 400


_ASCII_SPACE = " \t\n\r\f\v"


def _is_ascii_number(text: str) -> bool:
    """Decimal digits 0-9 only (``str.isdigit`` also accepts "²" and "٥")."""
    return text.isascii() and text.isdigit()


_HEX = frozenset("0123456789abcdef")


def normalize_trace_id(text: str) -> str:
    """32 lower-case hex characters: v1's 16-character ids are left-padded with zeros.

    Raises ``ValueError`` (with the fix) for an empty, too long or non-hex id.
    """
    trace_id = text.strip().lower()
    if not trace_id or len(trace_id) > 32 or not _HEX.issuperset(trace_id):
        raise ValueError(
            f"invalid trace id {text!r}: use 16 or 32 hexadecimal characters, "
            "e.g. 4bf92f3577b34da6a3ce929d0e0e4736"
        )
    return trace_id.rjust(32, "0")


@dataclass(slots=True)
class SpanColumns:
    """Spans as parallel lists, one entry per span (ids are lower-case hex, times in ns)."""

    trace_id: list[str] = field(default_factory=list)
    span_id: list[str] = field(default_factory=list)
    parent_span_id: list[str] = field(default_factory=list)  # "" for a root span
    service: list[str] = field(default_factory=list)
    operation: list[str] = field(default_factory=list)
    kind: list[int] = field(default_factory=list)
    start_ns: list[int] = field(default_factory=list)
    duration_ns: list[int] = field(default_factory=list)
    error: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.span_id)

    def append(
        self,
        *,
        trace_id: str,
        span_id: str,
        service: str,
        operation: str,
        duration_ns: int,
        parent_span_id: str = "",
        kind: int = KIND_UNSPECIFIED,
        start_ns: int = 0,
        error: bool = False,
    ) -> None:
        """Add one span (the convenient, slower path; the adapter fills the lists directly)."""
        self.trace_id.append(trace_id)
        self.span_id.append(span_id)
        self.parent_span_id.append(parent_span_id)
        self.service.append(service)
        self.operation.append(operation)
        self.kind.append(kind)
        self.start_ns.append(start_ns)
        self.duration_ns.append(duration_ns)
        self.error.append(error)

    def extend(self, other: SpanColumns) -> None:
        """Append every span of ``other``."""
        self.trace_id += other.trace_id
        self.span_id += other.span_id
        self.parent_span_id += other.parent_span_id
        self.service += other.service
        self.operation += other.operation
        self.kind += other.kind
        self.start_ns += other.start_ns
        self.duration_ns += other.duration_ns
        self.error += other.error


@dataclass(frozen=True)
class DependencyEdge:
    """``calls`` child spans in ``child`` whose parent span is in ``parent``."""

    parent: str
    child: str
    calls: int


@dataclass(frozen=True)
class TraceSummary:
    """One trace in a search result: its root span, extent, size and failures."""

    trace_id: str
    root_service: str
    root_operation: str
    start_ns: int  # earliest span start
    duration_ns: int  # latest span end minus earliest start
    span_count: int
    error_count: int  # error spans (of the service asked for, when one was)
    services: tuple[str, ...]


def trace_summaries(spans: SpanColumns, service: str | None = None) -> list[TraceSummary]:
    """One summary per trace, in first-seen order.

    The root is the earliest span without a parent in the trace (a span whose parent is
    missing counts as a root). With ``service``, ``error_count`` counts that service's spans.
    """
    by_trace: dict[str, list[int]] = {}
    for index, trace in enumerate(spans.trace_id):
        by_trace.setdefault(trace, []).append(index)
    summaries = []
    for trace, indexes in by_trace.items():
        ids = {spans.span_id[i] for i in indexes}
        roots = [i for i in indexes if spans.parent_span_id[i] not in ids] or indexes
        root = min(roots, key=lambda i: spans.start_ns[i])
        start = min(spans.start_ns[i] for i in indexes)
        end = max(spans.start_ns[i] + spans.duration_ns[i] for i in indexes)
        errors = sum(
            1
            for i in indexes
            if spans.error[i] and (service is None or spans.service[i] == service)
        )
        summaries.append(
            TraceSummary(
                trace_id=trace,
                root_service=spans.service[root],
                root_operation=spans.operation[root],
                start_ns=start,
                duration_ns=end - start,
                span_count=len(indexes),
                error_count=errors,
                services=tuple(sorted({spans.service[i] for i in indexes})),
            )
        )
    return summaries
