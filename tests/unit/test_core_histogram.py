"""Histogram math against hand-computed Prometheus ``histogram_quantile`` results."""

from __future__ import annotations

import math

import pytest

from sloctl.core.histogram import good_below, quantile, total

INF = math.inf
# 100 observations: 50 <= 0.1 s, 30 in (0.1, 0.2], 15 in (0.2, 0.4], 5 above 0.4 s.
BUCKETS = [(0.1, 50.0), (0.2, 80.0), (0.4, 95.0), (INF, 100.0)]


@pytest.mark.parametrize(
    ("q", "buckets", "expected"),
    [
        pytest.param(0.5, BUCKETS, 0.1, id="median-on-a-bound"),
        pytest.param(0.9, BUCKETS, 0.2 + 0.2 * (90 - 80) / 15, id="p90-interpolated"),
        pytest.param(0.99, BUCKETS, 0.4, id="p99-in-inf-bucket-gives-highest-bound"),
        pytest.param(1.0, BUCKETS, 0.4, id="max-gives-highest-bound"),
        pytest.param(0.25, BUCKETS, 0.05, id="lowest-bucket-starts-at-zero"),
        pytest.param(0.0, BUCKETS, 0.0, id="q0-is-zero"),
        pytest.param(0.8, BUCKETS, 0.2, id="rank-equal-to-a-count"),
        pytest.param(0.9, list(reversed(BUCKETS)), 0.2 + 0.2 * 10 / 15, id="unsorted-input"),
        pytest.param(
            0.6,
            [(0.1, 50.0), (0.2, 40.0), (0.4, 95.0), (INF, 100.0)],
            0.2 + 0.2 * (60 - 50) / 45,
            id="non-monotonic-lifted-to-envelope",
        ),
        pytest.param(
            0.5,
            [(0.1, 25.0), (0.1, 25.0), (0.2, 80.0), (INF, 100.0)],
            0.1,
            id="same-bound-merged",
        ),
        pytest.param(
            1.0,
            [(0.1, 50.0), (0.2, 100.0), (0.4, 100.00000000000003), (INF, 100.00000000000003)],
            0.2,
            id="float-noise-ignored",
        ),
        pytest.param(0.25, [(0.0, 10.0), (1.0, 20.0), (INF, 20.0)], 0.0, id="non-positive-lowest"),
        pytest.param(-0.1, BUCKETS, -INF, id="q-below-0"),
        pytest.param(1.5, BUCKETS, INF, id="q-above-1"),
    ],
)
def test_quantile(q: float, buckets: list[tuple[float, float]], expected: float) -> None:
    assert quantile(q, buckets) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("q", "buckets"),
    [
        pytest.param(0.5, [], id="no-buckets"),
        pytest.param(0.5, [(0.1, 50.0), (0.2, 80.0)], id="no-inf-bucket"),
        pytest.param(0.5, [(INF, 100.0)], id="only-inf-bucket"),
        pytest.param(0.5, [(0.1, 0.0), (INF, 0.0)], id="zero-observations"),
        pytest.param(math.nan, BUCKETS, id="q-nan"),
        pytest.param(0.0, [(0.1, 0.0), (INF, 10.0)], id="q0-with-empty-lowest-bucket"),
        pytest.param(0.5, [(0.1, math.nan), (INF, 10.0)], id="nan-count"),
    ],
)
def test_quantile_undefined_is_none(q: float, buckets: list[tuple[float, float]]) -> None:
    assert quantile(q, buckets) is None


@pytest.mark.parametrize(
    ("buckets", "threshold", "expected"),
    [
        pytest.param(BUCKETS, 0.2, (80.0, True), id="exact-bound"),
        pytest.param(BUCKETS, float("0.1"), (50.0, True), id="exact-lowest-bound"),
        pytest.param(
            [(0.3, 10.0), (INF, 12.0)], 0.1 + 0.2, (10.0, True), id="bound-within-tolerance"
        ),
        pytest.param(BUCKETS, 0.3, (80.0 + 15.0 * 0.5, False), id="interpolated-mid-bucket"),
        pytest.param(BUCKETS, 0.05, (25.0, False), id="interpolated-in-lowest-from-zero"),
        pytest.param(BUCKETS, 1.0, (95.0, False), id="above-top-finite-bound"),
        pytest.param(BUCKETS, INF, (100.0, True), id="inf-threshold-is-total"),
        pytest.param(BUCKETS, 0.0, (0.0, False), id="zero-threshold"),
        pytest.param(list(reversed(BUCKETS)), 0.3, (87.5, False), id="unsorted-input"),
        pytest.param(
            [(0.1, 50.0), (0.2, 40.0), (INF, 100.0)], 0.2, (50.0, True), id="non-monotonic"
        ),
        pytest.param([(0.1, 0.0), (0.2, 0.0), (INF, 0.0)], 0.2, (0.0, True), id="zero-total-bound"),
        pytest.param(
            [(0.1, 0.0), (0.2, 0.0), (INF, 0.0)], 0.15, (0.0, False), id="zero-total-between"
        ),
        pytest.param([(0.1, 50.0), (0.2, 80.0)], 0.2, (None, False), id="missing-inf-bucket"),
        pytest.param([(INF, 10.0)], 0.3, (None, False), id="only-inf-bucket"),
        pytest.param([], 0.3, (None, False), id="no-buckets"),
    ],
)
def test_good_below(
    buckets: list[tuple[float, float]], threshold: float, expected: tuple[float | None, bool]
) -> None:
    expected_count, expected_exact = expected
    count, exact = good_below(buckets, threshold)
    assert exact is expected_exact
    if expected_count is None:
        assert count is None
    else:
        assert count == pytest.approx(expected_count, rel=1e-12)


@pytest.mark.parametrize(
    ("buckets", "expected"),
    [
        pytest.param(BUCKETS, 100.0, id="inf-count"),
        pytest.param(list(reversed(BUCKETS)), 100.0, id="unsorted"),
        pytest.param([(0.1, 50.0), (INF, 40.0)], 50.0, id="non-monotonic-envelope"),
        pytest.param([(0.1, 50.0)], None, id="missing-inf-bucket"),
        pytest.param([(0.1, 0.0), (INF, 0.0)], 0.0, id="zero"),
    ],
)
def test_total(buckets: list[tuple[float, float]], expected: float | None) -> None:
    assert total(buckets) == expected
