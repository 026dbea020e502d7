"""Per-operation statistics from span metrics (the collector's span_metrics connector).

Plain values in, rows out: the adapter turns Prometheus answers into mappings keyed by
``(service, span name, span kind label)``; this module only combines them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

OperationKey = tuple[str, str, str]  # service_name, span_name, span_kind (SPAN_KIND_SERVER...)
QUANTILES: tuple[float, ...] = (0.50, 0.95, 0.99)
_KIND_PREFIX = "SPAN_KIND_"


def kind_name(label: str) -> str:
    """``SPAN_KIND_SERVER`` -> ``server``; other spellings are lower-cased as they are."""
    return label.removeprefix(_KIND_PREFIX).lower() or "unspecified"


@dataclass(frozen=True)
class OperationStats:
    """One operation (span name and kind) of one service over ``window_seconds``.

    ``requests`` and ``errors`` are Prometheus ``increase()`` values: extrapolated to the window's
    edges, so not always whole numbers. A quantile is ``None`` when the histogram had no data.
    """

    service: str
    operation: str
    kind: str  # "server", "client", ... (kind_name)
    window_seconds: int
    requests: float
    errors: float
    p50_seconds: float | None
    p95_seconds: float | None
    p99_seconds: float | None

    @property
    def rate_per_second(self) -> float:
        return self.requests / self.window_seconds

    @property
    def error_ratio(self) -> float | None:
        return self.errors / self.requests if self.requests > 0 else None


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def operation_stats(
    window_seconds: int,
    requests: Mapping[OperationKey, float],
    errors: Mapping[OperationKey, float],
    quantiles: Mapping[float, Mapping[OperationKey, float]],
) -> list[OperationStats]:
    """One row per operation with requests in the window, busiest first, then by name.

    ``quantiles`` maps each of ``QUANTILES`` to its values; a missing error count is 0, a
    missing or non-finite quantile ``None``. Raises ``ValueError`` for a window that is not > 0.
    """
    if window_seconds <= 0:
        raise ValueError(f"window_seconds must be positive; got {window_seconds}")
    rows = []
    for key, count in requests.items():
        if not count > 0:
            continue
        service, operation, kind = key
        p50, p95, p99 = (_finite(quantiles.get(q, {}).get(key)) for q in QUANTILES)
        rows.append(
            OperationStats(
                service=service,
                operation=operation,
                kind=kind_name(kind),
                window_seconds=window_seconds,
                requests=count,
                errors=errors.get(key, 0.0),
                p50_seconds=p50,
                p95_seconds=p95,
                p99_seconds=p99,
            )
        )
    rows.sort(key=lambda r: (-r.requests, r.service, r.operation, r.kind))
    return rows
