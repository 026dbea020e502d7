"""Classic (cumulative, ``le``-bucketed) Prometheus histograms: totals, quantiles, good counts.

Buckets are ``(le, count)`` pairs in any order, where ``count`` is the cumulative number of
observations ``<= le`` (floats, as ``increase()`` returns them) and the last bound is ``math.inf``.
Before any computation the buckets are normalised exactly like Prometheus' ``histogram_quantile``
does: sorted by bound, buckets with the same bound merged (counts summed), float noise below a
relative 1e-12 smoothed out, and decreasing counts lifted so that counts never decrease.

Nothing here returns a made-up zero: a histogram that cannot answer gives ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Buckets = Sequence[tuple[float, float]]

# Relative tolerance below which two adjacent counts are treated as equal (Prometheus: 1e-12).
_PRECISION_TOLERANCE = 1e-12
# Relative tolerance for "the threshold is this bucket's bound" (``le="0.3"`` parses to a float).
_BOUND_TOLERANCE = 1e-9


def normalize(buckets: Buckets) -> list[tuple[float, float]] | None:
    """Sorted, merged, monotonic buckets; ``None`` without a ``+Inf`` bucket or with NaN values."""
    if not buckets:
        return None
    if any(math.isnan(le) or math.isnan(count) for le, count in buckets):
        return None
    ordered = sorted(buckets, key=lambda bucket: bucket[0])
    if not math.isinf(ordered[-1][0]) or ordered[-1][0] < 0:
        return None
    merged: list[list[float]] = []
    for le, count in ordered:
        if merged and merged[-1][0] == le:
            merged[-1][1] += count
        else:
            merged.append([le, count])
    _smooth_precision_noise(merged)
    _force_monotonic(merged)
    return [(le, count) for le, count in merged]


def _smooth_precision_noise(merged: list[list[float]]) -> None:
    """Replace a count that differs from the previous one by a relative 1e-12 or less."""
    previous = merged[0][1]
    for bucket in merged[1:]:
        current = bucket[1]
        delta = abs(current - previous)
        if delta == 0:
            continue
        if current != 0 and delta / abs(current) <= _PRECISION_TOLERANCE:
            bucket[1] = previous
        else:
            previous = current


def _force_monotonic(merged: list[list[float]]) -> None:
    """Lift every count to the highest count seen at a lower bound (the histogram's envelope)."""
    highest = merged[0][1]
    for bucket in merged[1:]:
        if bucket[1] > highest:
            highest = bucket[1]
        elif bucket[1] < highest:
            bucket[1] = highest


def total(buckets: Buckets) -> float | None:
    """Number of observations (the ``+Inf`` count); ``None`` without a ``+Inf`` bucket."""
    normalized = normalize(buckets)
    return None if normalized is None else normalized[-1][1]


def quantile(q: float, buckets: Buckets) -> float | None:
    """The ``q``-quantile with the semantics of PromQL ``histogram_quantile`` on classic buckets.

    Linear interpolation inside the bucket holding rank ``q * total``; the lowest bucket starts
    at 0 when its bound is > 0 (otherwise its bound is returned); a rank in the ``+Inf`` bucket
    returns the highest finite bound. ``q < 0`` gives ``-inf`` and ``q > 1`` gives ``+inf``.
    Where Prometheus returns NaN (q is NaN, no ``+Inf`` bucket, fewer than two buckets, no
    observations, q = 0 with an empty lowest bucket) this returns ``None``.
    """
    if math.isnan(q):
        return None
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    normalized = normalize(buckets)
    if normalized is None or len(normalized) < 2:
        return None
    observations = normalized[-1][1]
    if observations == 0:
        return None
    rank = q * observations
    index = _first_reaching(normalized, rank)
    if index == len(normalized) - 1:
        return normalized[-2][0]
    upper, count = normalized[index]
    if index == 0 and upper <= 0:
        return upper
    lower = 0.0
    if index > 0:
        lower, below = normalized[index - 1]
        count -= below
        rank -= below
    if count == 0:
        return None
    return lower + (upper - lower) * (rank / count)


def _first_reaching(normalized: list[tuple[float, float]], rank: float) -> int:
    """Index of the first finite bucket whose count reaches ``rank``; the ``+Inf`` index if none."""
    last = len(normalized) - 1
    return next((i for i in range(last) if normalized[i][1] >= rank), last)


def good_below(buckets: Buckets, threshold: float) -> tuple[float | None, bool]:
    """Observations ``<= threshold`` and whether that count is exact.

    Exact when ``threshold`` is a bucket bound (relative tolerance 1e-9). Otherwise the count is
    interpolated linearly inside the bucket holding the threshold (the lowest bucket starts at 0
    when its bound is > 0; below that, 0 is returned) and ``exact`` is False. Above the highest
    finite bound the count of that bound is returned, inexact. Without a ``+Inf`` bucket, or
    with only a ``+Inf`` bucket and a threshold that is not +Inf, the result is ``(None, False)``.
    A histogram with zero observations gives ``(0.0, exact)``: callers treat zero traffic.
    """
    normalized = normalize(buckets)
    if normalized is None or math.isnan(threshold):
        return None, False
    for le, count in normalized:
        if le == threshold or math.isclose(le, threshold, rel_tol=_BOUND_TOLERANCE):
            return count, True
    finite = normalized[:-1]
    if not finite:
        return None, False
    if threshold > finite[-1][0]:
        return finite[-1][1], False
    lower, below = 0.0, 0.0
    for upper, count in finite:
        if threshold < upper:
            if threshold <= lower:
                return 0.0, False
            return below + (count - below) * (threshold - lower) / (upper - lower), False
        lower, below = upper, count
    return finite[-1][1], False  # unreachable: threshold > highest bound was handled above
