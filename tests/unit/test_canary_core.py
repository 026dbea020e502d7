"""The canary's statistics on known inputs: exact tail probabilities and intervals recomputed
here from their definitions, a textbook sample size, the issue's ground-truth cases at 1,000
requests a minute with a 5 % canary over 30 minutes, and 200 A/A runs."""

from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import pytest

from sloctl.core.canary import (
    CheckInput,
    Counts,
    Policy,
    Verdict,
    compare,
    difference_interval,
    judge,
    one_sided_p,
    sample_size,
    wilson,
)
from sloctl.core.canary_latency import quantile_check, quantile_interval, threshold_check

BOUNDS = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0, math.inf)


def hypergeometric_tail(c: Counts, b: Counts) -> float:
    """P(canary errors >= observed | total errors), exactly, from binomial coefficients."""
    errors, n = c.bad + b.bad, c.total + b.total
    tail = sum(
        Fraction(math.comb(errors, k) * math.comb(n - errors, c.total - k), math.comb(n, c.total))
        for k in range(c.bad, min(errors, c.total) + 1)
    )
    return float(tail)


@pytest.mark.parametrize(
    ("canary", "baseline"),
    [(Counts(5, 20), Counts(1, 40)), (Counts(19, 1500), Counts(71, 28500)),
     (Counts(0, 50), Counts(3, 900)), (Counts(3, 3), Counts(0, 3))],
)
def test_the_one_sided_p_value_is_the_exact_hypergeometric_tail(
    canary: Counts, baseline: Counts
) -> None:
    assert one_sided_p(canary, baseline) == pytest.approx(
        hypergeometric_tail(canary, baseline), rel=1e-9)


def test_wilson_interval_equals_its_closed_form() -> None:
    bad, total, confidence = 8, 1500, 0.98
    z = NormalDist().inv_cdf(1 - (1 - confidence) / 2)
    p = bad / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    assert wilson(bad, total, confidence) == pytest.approx((centre - half, centre + half))
    assert wilson(0, 0, confidence) == (0.0, 1.0)


def test_newcombes_interval_of_the_difference() -> None:
    c, b = Counts(8, 1500), Counts(71, 28500)
    (l1, u1), (l2, u2) = wilson(8, 1500, 0.98), wilson(71, 28500, 0.98)
    d = 8 / 1500 - 71 / 28500
    got = difference_interval(c, b, 0.98)
    assert got.low == pytest.approx(d - math.hypot(8 / 1500 - l1, u2 - 71 / 28500))
    assert got.high == pytest.approx(d + math.hypot(u1 - 8 / 1500, 71 / 28500 - l2))
    assert got.low < d < got.high


def test_sample_size_matches_the_textbook_value() -> None:
    # Fleiss without continuity correction: 10 % vs 20 %, two-sided 5 % (one-sided 2.5 %),
    # power 80 %, equal groups: 199 per group.
    assert math.ceil(sample_size(0.1, 0.1, 1.0, 0.025, 0.8)) == 199


# -- the ground truth: 1,000 requests a minute, 5 % canary, 30 minutes ----------------
# canary 1,500 requests, baseline 28,500; the baseline errs at 0.25 % (71.25 -> 71 errors).
BASELINE = Counts.of(0.0025 * 28500, 28500)
AVAILABILITY_BUDGET = 0.005  # 99.5 %


def errors_only(canary_errors: float, canary_total: float = 1500,
                baseline: Counts = BASELINE) -> CheckInput:
    return CheckInput("errors", Counts.of(canary_errors, canary_total), baseline,
                      AVAILABILITY_BUDGET)


def test_five_times_the_baseline_error_ratio_fails_at_30_minutes() -> None:
    result = judge([errors_only(0.0125 * 1500)])  # 18.75 -> 19 errors
    (check,) = result.checks
    assert result.verdict == Verdict.FAIL
    assert check.p_value is not None and check.p_value < 1e-6
    assert check.ratio == pytest.approx((19 / 1500) / (71 / 28500))
    assert check.interval is not None and check.interval.low > 0


def test_twice_the_error_ratio_is_inconclusive_at_30_minutes_then_fails_once_served() -> None:
    result = judge([errors_only(0.005 * 1500)])  # 7.5 -> 8 errors
    assert result.verdict == Verdict.INCONCLUSIVE
    assert result.needed is not None
    # power 0.8 at alpha 0.01 for the observed 0.284 pp at today's 1:19 split: ~2,700 more
    # canary requests (4,209 in all) and 19 times that many baseline ones.
    assert (result.needed.canary, result.needed.baseline) == (2709, 51471)
    canary = 1500 + result.needed.canary
    baseline = 28500 + result.needed.baseline
    later = judge([errors_only(0.005 * canary, canary, Counts.of(0.0025 * baseline, baseline))])
    assert later.verdict == Verdict.FAIL


def test_a_canary_well_within_the_margin_passes() -> None:
    result = judge([errors_only(0.0025 * 60000, 60000, Counts.of(0.0025 * 1.14e6, 1.14e6))])
    (check,) = result.checks
    assert result.verdict == Verdict.PASS and result.needed is None
    assert check.interval is not None and check.interval.high <= check.margin == 0.0025


def test_too_few_requests_are_inconclusive_with_the_minimum_needed() -> None:
    result = judge([errors_only(0, 40, Counts(0, 900))])
    assert result.verdict == Verdict.INCONCLUSIVE
    assert result.needed is not None and result.needed.canary >= 60


def test_the_checks_share_alpha() -> None:
    inputs = [errors_only(7.5), errors_only(7.5)]
    assert {c.alpha for c in judge(inputs).checks} == {0.005}
    assert compare(inputs[0], Policy(), 0.01).alpha == 0.01


# -- latency -------------------------------------------------------------------------------


def histogram(shares: tuple[float, ...], n: float) -> list[tuple[float, float]]:
    """Cumulative buckets at BOUNDS from per-bucket shares."""
    cumulative = np.cumsum(shares) * n
    return [(le, float(c)) for le, c in zip(BOUNDS, cumulative, strict=True)]


# baseline: p95 exactly at 0.1 s (95 % within it); canary 100 ms slower: p95 exactly at 0.2 s.
# Both have 1 % slower than 0.3 s, the latency SLO's threshold: only the p95 check sees it.
BASE_SHARES = (0.60, 0.35, 0.03, 0.01, 0.005, 0.003, 0.002)
SLOW_SHARES = (0.40, 0.30, 0.25, 0.04, 0.005, 0.003, 0.002)


def test_a_canary_100_ms_slower_at_p95_fails_on_the_p95_check() -> None:
    c, b = histogram(SLOW_SHARES, 1500), histogram(BASE_SHARES, 28500)
    slow = threshold_check(c, b, 0.3, 0.05)
    tail = quantile_check(c, b, 0.95, 0.01 / 2)
    assert (slow.canary, slow.baseline) == (Counts(15, 1500), Counts(285, 28500))
    assert tail.detail["baseline_seconds"] == pytest.approx(0.1)
    assert tail.detail["canary_seconds"] == pytest.approx(0.2)
    assert tail.detail["difference_seconds"] == pytest.approx(0.1)
    assert tail.detail["bound_seconds"] == 0.1
    assert (tail.canary, tail.baseline) == (Counts(450, 1500), Counts(1425, 28500))
    result = judge([slow, tail])
    assert [c.verdict for c in result.checks] == [Verdict.PASS, Verdict.FAIL]
    assert result.verdict == Verdict.FAIL


def test_the_quantile_interval_holds_the_quantile() -> None:
    buckets = histogram(BASE_SHARES, 28500)
    interval = quantile_interval(buckets, 0.95, 0.99)
    assert interval is not None and interval.low <= 0.1 <= interval.high
    assert quantile_interval([], 0.95, 0.99) is None


def test_a_threshold_between_bounds_is_interpolated_and_flagged() -> None:
    c = histogram(BASE_SHARES, 1000)
    check = threshold_check(c, c, 0.25, 0.05)
    assert check.detail["exact"] is False
    assert check.canary == Counts(15, 1000)  # 1000 - (980 + 10 * 0.5): half of (0.2, 0.3]


# -- A/A: identical distributions, different seeds ------------------------------------------

A_A_RUNS = 200


def test_200_a_a_runs_at_alpha_001_give_at_most_6_fails() -> None:
    fails = 0
    for seed in range(A_A_RUNS):
        rng = np.random.default_rng(seed)
        sides = []
        for n in (1500, 28500):
            errors = int(rng.binomial(n, 0.0025))
            per_bucket = rng.multinomial(n, BASE_SHARES)
            cumulative = np.cumsum(per_bucket)
            sides.append((Counts(errors, n), [(le, float(v)) for le, v in
                                               zip(BOUNDS, cumulative, strict=True)]))
        (ce, cb), (be, bb) = sides
        inputs = [CheckInput("errors", ce, be, 0.005), threshold_check(cb, bb, 0.3, 0.05),
                  quantile_check(cb, bb, 0.95, 0.01 / 3)]
        fails += judge(inputs).verdict == Verdict.FAIL
    assert fails <= 6, fails
