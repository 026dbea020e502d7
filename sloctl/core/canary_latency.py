"""The canary's latency checks, from classic histograms of both sides (``core.histogram``).

- ``threshold_check``: the share of requests slower than the latency SLO's threshold (exact when
  the threshold is a bucket bound, interpolated inside its bucket otherwise, and flagged).
- ``quantile_check``: the share of requests beyond the baseline's p95, at the first bucket
  bound at or above it (exact bucket counts: the baseline has at most 5 % there, a canary whose
  p95 moved past the bound has more). Its detail holds both p95s, as ``histogram_quantile``
  computes them, and their difference with a distribution-free interval (order statistics:
  binomial ranks around ``q * n``, read through the same interpolation, per side at ``1 -
  alpha``; the difference's interval combines the ends, conservatively).

Buckets are ``(le, cumulative count)`` in seconds.
"""

from __future__ import annotations

import math

from sloctl.core.canary import CheckInput, Counts, Interval
from sloctl.core.histogram import Buckets, good_below, normalize, quantile, total


def threshold_check(
    canary: Buckets, baseline: Buckets, threshold: float, budget: float
) -> CheckInput:
    """Requests slower than ``threshold`` seconds on each side; ``budget`` = 1 - objective."""
    sides = []
    exact = True
    for buckets in (canary, baseline):
        count = total(buckets) or 0.0
        good, is_exact = good_below(buckets, threshold) if count else (0.0, True)
        exact = exact and is_exact
        sides.append(Counts.of(count - (good or 0.0), count))
    detail = {"threshold_seconds": threshold, "exact": exact}
    return CheckInput("latency", sides[0], sides[1], budget, detail)


def quantile_check(
    canary: Buckets, baseline: Buckets, q: float, alpha: float
) -> CheckInput:
    """Requests beyond the bucket bound holding the baseline's ``q``-quantile; budget 1 - q."""
    base = normalize(baseline) if baseline else None
    p_canary, p_baseline = quantile(q, canary), quantile(q, baseline)
    bound = None
    if base is not None and p_baseline is not None:
        bound = next((le for le, _ in base[:-1] if le >= p_baseline), base[-2][0])
    sides = [_beyond(b, bound) for b in (canary, baseline)]
    name = f"p{q * 100:g}"
    detail: dict[str, object] = {
        "quantile": q, "bound_seconds": bound, "canary_seconds": p_canary,
        "baseline_seconds": p_baseline,
        "difference_seconds": None if p_canary is None or p_baseline is None
        else p_canary - p_baseline,
        "difference_interval": _difference(canary, baseline, q, alpha),
    }
    return CheckInput(name, sides[0], sides[1], 1 - q, detail)


def _beyond(buckets: Buckets, bound: float | None) -> Counts:
    count = total(buckets) or 0.0
    if bound is None or not count:
        return Counts.of(0, count)
    below, _ = good_below(buckets, bound)
    return Counts.of(count - (below or 0.0), count)


def quantile_interval(buckets: Buckets, q: float, confidence: float) -> Interval | None:
    """Distribution-free interval of the ``q``-quantile: the observations at the binomial ranks
    around ``q * n``, each read from the histogram like ``histogram_quantile``."""
    from scipy.stats import binom

    n = total(buckets) if buckets else None
    if not n or n < 1:
        return None
    count = math.floor(n + 0.5)
    tail = (1 - confidence) / 2
    low_rank = max(float(binom.ppf(tail, count, q)), 0.0)
    high_rank = min(float(binom.ppf(1 - tail, count, q)) + 1, float(count))
    low, high = quantile(low_rank / count, buckets), quantile(high_rank / count, buckets)
    if low is None or high is None:
        return None
    return Interval(low, high, confidence)


def _difference(canary: Buckets, baseline: Buckets, q: float, alpha: float) -> Interval | None:
    """Canary minus baseline quantile: each side's interval at ``1 - alpha``, so the combined
    interval covers with at least ``1 - 2 alpha``."""
    c = quantile_interval(canary, q, 1 - alpha)
    b = quantile_interval(baseline, q, 1 - alpha)
    if c is None or b is None:
        return None
    return Interval(c.low - b.high, c.high - b.low, 1 - 2 * alpha)
