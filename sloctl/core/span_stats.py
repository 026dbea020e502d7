"""Per-operation and per-service span statistics and the service graph, computed with numpy.

Spans are grouped by one radix sort of small integer ids, and each group's quantiles come from
``np.partition`` (linear time), so a million spans cost a few array passes rather than a Python
loop. Quantiles interpolate linearly between order statistics, exactly as
``sloctl.core.spans.quantile`` (numpy's default) does.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from sloctl.core.span_arrays import SpanArrays
from sloctl.core.spans import (
    KIND_CONSUMER,
    KIND_NAMES,
    KIND_SERVER,
    DependencyEdge,
    LatencyStats,
    OperationStats,
    ServiceStats,
    SpanColumns,
    SpanStats,
)

_QUANTILES = (0.50, 0.95, 0.99)


def _dense_ids(keys: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(distinct keys ascending, each key's position among them): ``np.unique`` without sorting
    when the keys are small enough for a lookup table."""
    if len(keys) and int(keys.min()) >= 0 and int(keys.max()) < 1 << 22:
        present = np.flatnonzero(np.bincount(keys))
        position = np.zeros(int(present[-1]) + 1, dtype=np.int64)
        position[present] = np.arange(len(present))
        return present.astype(np.int64), position[keys]
    distinct, inverse = np.unique(keys, return_inverse=True)
    return distinct.astype(np.int64), inverse.astype(np.int64)


def _grouped_stats(
    group: NDArray[np.int64],
    groups: int,
    duration_ns: NDArray[np.int64],
    error: NDArray[np.bool_],
    window_seconds: float,
) -> list[LatencyStats | None]:
    """``LatencyStats`` of every group id in ``range(groups)`` (``None`` for an empty group).

    Spans are put in group order by one stable sort (a radix sort for 16-bit ids); each group's
    quantiles then need only the order statistics around them (``np.partition``), not a sort.
    """
    keys = group.astype(np.uint16) if groups <= 1 << 16 else group
    grouped = duration_ns[np.argsort(keys, kind="stable")]
    counts = np.bincount(group, minlength=groups).tolist()
    errors = np.bincount(group[error], minlength=groups).tolist()
    result: list[LatencyStats | None] = []
    end = 0
    for n, failed in zip(counts, errors, strict=True):
        end += n
        if n == 0:
            result.append(None)
            continue
        positions = [(n - 1) * q for q in _QUANTILES]
        ranks = sorted(
            {r for p in positions for r in (math.floor(p), min(math.floor(p) + 1, n - 1))}
        )
        ranked = dict(
            zip(ranks, np.partition(grouped[end - n : end], ranks)[ranks].tolist(), strict=True)
        )
        p50, p95, p99 = (_interpolate(ranked, p, n) / 1e9 for p in positions)
        result.append(
            LatencyStats(
                requests=n,
                errors=failed,
                rate_per_second=n / window_seconds,
                error_ratio=failed / n,
                p50_seconds=p50,
                p95_seconds=p95,
                p99_seconds=p99,
            )
        )
    return result


def _interpolate(ranked: dict[int, int], position: float, n: int) -> float:
    """Linear interpolation between order statistics, as ``sloctl.core.spans.quantile``."""
    low = math.floor(position)
    high = min(low + 1, n - 1)
    return ranked[low] + (ranked[high] - ranked[low]) * (position - low)


def _present(stats: list[LatencyStats | None], index: int) -> LatencyStats:
    value = stats[index]
    assert value is not None, "a group id taken from the spans has spans"
    return value


def span_stats(spans: SpanColumns | SpanArrays, window_seconds: float) -> SpanStats:
    """Per-operation and per-service stats and the dependency graph of ``spans``.

    Operations are (service, span name, kind); a service's own stats cover its entry spans
    (SERVER and CONSUMER spans, and root spans). ``window_seconds`` is the length of the queried
    window; rates are counts divided by it.
    """
    if window_seconds <= 0:
        raise ValueError(f"window_seconds must be positive; got {window_seconds}")
    arrays = spans if isinstance(spans, SpanArrays) else SpanArrays.from_columns(spans)
    service = arrays.service.astype(np.int64)
    op_key = (service * max(len(arrays.operations), 1) + arrays.operation) * 256 + arrays.kind
    keys, op_group = _dense_ids(op_key)
    op_stats = _grouped_stats(op_group, len(keys), arrays.duration_ns, arrays.error, window_seconds)
    decoded = []
    for g, key in enumerate(keys.tolist()):
        service_op, kind = divmod(key, 256)
        service_index, operation = divmod(service_op, max(len(arrays.operations), 1))
        decoded.append((arrays.services[service_index], arrays.operations[operation], kind, g))
    decoded.sort()
    op_count: dict[str, int] = {}
    operations = []
    for service_name, operation_name, kind, g in decoded:
        op_count[service_name] = op_count.get(service_name, 0) + 1
        operations.append(
            OperationStats(
                service_name, operation_name, KIND_NAMES.get(kind, "?"), _present(op_stats, g)
            )
        )
    entry = (arrays.kind == KIND_SERVER) | (arrays.kind == KIND_CONSUMER) | ~arrays.has_parent
    entry_stats = _grouped_stats(
        service[entry],
        len(arrays.services),
        arrays.duration_ns[entry],
        arrays.error[entry],
        window_seconds,
    )
    services = tuple(
        ServiceStats(name, stats, op_count.get(name, 0))
        for name, stats in sorted(zip(arrays.services, entry_stats, strict=True))
        if stats is not None
    )
    return SpanStats(
        window_seconds=window_seconds,
        span_count=len(arrays),
        services=services,
        operations=tuple(operations),
        dependencies=dependency_graph(arrays),
    )


def dependency_graph(spans: SpanColumns | SpanArrays) -> tuple[DependencyEdge, ...]:
    """Calls between services: one per span whose parent span (same trace) is elsewhere.

    Parents missing from ``spans`` (partial traces) add no edge. Sorted by calls, then names.
    """
    arrays = spans if isinstance(spans, SpanArrays) else SpanArrays.from_columns(spans)
    linked = arrays.parent_index >= 0
    child = arrays.service[linked].astype(np.int64)
    parent = arrays.service[arrays.parent_index[linked]].astype(np.int64)
    crossing = parent != child
    width = max(len(arrays.services), 1)
    edges, calls = np.unique(parent[crossing] * width + child[crossing], return_counts=True)
    named = [
        (arrays.services[edge // width], arrays.services[edge % width], int(n))
        for edge, n in zip(edges.tolist(), calls.tolist(), strict=True)
    ]
    named.sort(key=lambda e: (-e[2], e[0], e[1]))
    return tuple(DependencyEdge(p, c, n) for p, c, n in named)
