"""Spans as numpy columns: what the span statistics read, with names factored into tables.

The Jaeger adapter's native scanner fills these straight from OTLP/JSON bytes; ``from_columns``
builds the same from ``SpanColumns`` (v1 traces, tests, the pure-Python fallback).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sloctl.core.spans import SpanColumns


@dataclass(frozen=True)
class SpanArrays:
    """One entry per span in each array; ``service``/``operation`` index the name tables.

    ``parent_index`` is the index of the span whose (trace id, span id) equals this span's
    (trace id, parent span id), -1 when there is none in the set (with duplicate ids the later
    span counts). ``has_parent`` is whether the span names a parent at all.
    """

    services: tuple[str, ...]
    operations: tuple[str, ...]
    service: NDArray[np.uint32]
    operation: NDArray[np.uint32]
    kind: NDArray[np.uint8]
    error: NDArray[np.bool_]
    has_parent: NDArray[np.bool_]
    start_ns: NDArray[np.int64]
    duration_ns: NDArray[np.int64]
    parent_index: NDArray[np.int64]
    trace_count: int

    def __post_init__(self) -> None:
        n = len(self.service)
        columns = (
            self.operation,
            self.kind,
            self.error,
            self.has_parent,
            self.start_ns,
            self.duration_ns,
            self.parent_index,
        )
        if any(len(column) != n for column in columns):
            raise ValueError("SpanArrays columns must all have one entry per span")

    def __len__(self) -> int:
        return len(self.service)

    @classmethod
    def from_columns(cls, spans: SpanColumns) -> SpanArrays:
        """The same spans as arrays (ids are compared as given; they are already lower-case)."""
        services: dict[str, int] = {}
        operations: dict[str, int] = {}
        service = [services.setdefault(s, len(services)) for s in spans.service]
        operation = [operations.setdefault(o, len(operations)) for o in spans.operation]
        owner = {key: i for i, key in enumerate(zip(spans.trace_id, spans.span_id, strict=True))}
        parents = [
            owner.get((trace, parent), -1) if parent else -1
            for trace, parent in zip(spans.trace_id, spans.parent_span_id, strict=True)
        ]
        return cls(
            services=tuple(services),
            operations=tuple(operations),
            service=np.array(service, dtype=np.uint32),
            operation=np.array(operation, dtype=np.uint32),
            kind=np.array(spans.kind, dtype=np.uint8),
            error=np.array(spans.error, dtype=np.bool_),
            has_parent=np.array([bool(p) for p in spans.parent_span_id], dtype=np.bool_),
            start_ns=np.array(spans.start_ns, dtype=np.int64),
            duration_ns=np.array(spans.duration_ns, dtype=np.int64),
            parent_index=np.array(parents, dtype=np.int64),
            trace_count=len(set(spans.trace_id)),
        )
