"""Canary judgement: is the canary worse than the baseline over the same interval? (issue #16)

Each check compares one share of "bad" requests (errors, requests slower than the threshold,
requests beyond the baseline's p95) between the two sides:

- **fail**: Fisher's exact test, one-sided (H1: the canary's share is higher), rejects at the
  check's alpha. Exact at any count, so a clearly broken canary fails early, whatever its size.
- **pass**: both sides have ``min_requests`` and the upper end of the difference's confidence
  interval (Newcombe's hybrid score interval, from Wilson intervals) is at most the margin: the
  canary may add at most ``tolerance`` of the SLI's error budget (0.5 x 0.5 % for a 99.5 % SLO).
- **inconclusive** otherwise, with the requests each side still needs: the sample size at which
  the test has ``power`` to detect the larger of the observed difference and the margin, at the
  check's alpha, with today's traffic split (normal approximation, Fleiss without continuity
  correction).

The checks of one judgement share ``alpha`` (Bonferroni: each runs at alpha / checks), so an A/A
comparison fails at most ``alpha`` of the time whatever the number of checks. The interval's
confidence is ``1 - 2 alpha'``: its upper end is the one-sided ``1 - alpha'`` bound.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from statistics import NormalDist


class Verdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class Counts:
    """``bad`` of ``total`` requests on one side (whole numbers)."""

    bad: int
    total: int

    def __post_init__(self) -> None:
        if not 0 <= self.bad <= self.total:
            raise ValueError(f"need 0 <= bad <= total, got {self.bad} of {self.total}")

    @classmethod
    def of(cls, bad: float, total: float) -> Counts:
        """From Prometheus' ``increase()`` (extrapolated, fractional): rounded half up."""
        whole = max(_round(total), 0)
        return cls(min(max(_round(bad), 0), whole), whole)

    @property
    def ratio(self) -> float | None:
        return self.bad / self.total if self.total else None


def _round(value: float) -> int:
    return math.floor(value + 0.5)


@dataclass(frozen=True)
class Policy:
    """How strict a judgement is; see the module docstring."""

    alpha: float = 0.01
    power: float = 0.8
    min_requests: int = 100
    tolerance: float = 0.5  # share of each SLI's error budget the canary may add

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 0.5:
            raise ValueError(f"alpha must be in (0, 0.5), got {self.alpha}")
        if not 0.5 <= self.power < 1:
            raise ValueError(f"power must be in [0.5, 1), got {self.power}")
        if self.min_requests < 1:
            raise ValueError(f"min_requests must be at least 1, got {self.min_requests}")
        if not 0 < self.tolerance <= 1:
            raise ValueError(f"tolerance must be in (0, 1], got {self.tolerance}")


@dataclass(frozen=True)
class CheckInput:
    """One comparison to make: bad shares of both sides and the SLI's error budget."""

    name: str
    canary: Counts
    baseline: Counts
    budget: float  # the SLI's error budget as a ratio (1 - objective), > 0
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    confidence: float


@dataclass(frozen=True)
class Needed:
    """More requests each side needs, and the difference of shares they are computed for."""

    canary: int
    baseline: int
    effect: float | None = None


@dataclass(frozen=True)
class CheckResult:
    name: str
    verdict: Verdict
    canary: Counts
    baseline: Counts
    difference: float | None  # canary share - baseline share
    interval: Interval | None
    ratio: float | None  # canary share / baseline share
    p_value: float | None
    alpha: float  # this check's (alpha / checks)
    margin: float  # the largest acceptable difference (tolerance x budget)
    needed: Needed | None  # inconclusive only
    reason: str
    detail: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    checks: tuple[CheckResult, ...]
    needed: Needed | None  # the most any inconclusive check needs
    policy: Policy


def judge(inputs: Sequence[CheckInput], policy: Policy | None = None) -> Judgement:
    """Every check at ``alpha / len(inputs)``: fail if any fails, else inconclusive if any is,
    else pass. No check at all is inconclusive."""
    policy = policy or Policy()
    if not inputs:
        return Judgement(Verdict.INCONCLUSIVE, (), None, policy)
    alpha = policy.alpha / len(inputs)
    checks = tuple(compare(i, policy, alpha) for i in inputs)
    verdicts = {c.verdict for c in checks}
    if Verdict.FAIL in verdicts:
        verdict = Verdict.FAIL
    elif Verdict.INCONCLUSIVE in verdicts:
        verdict = Verdict.INCONCLUSIVE
    else:
        verdict = Verdict.PASS
    open_ = [c.needed for c in checks if c.needed is not None]
    needed = (
        Needed(max(n.canary for n in open_), max(n.baseline for n in open_))
        if open_ and verdict == Verdict.INCONCLUSIVE else None
    )
    return Judgement(verdict, checks, needed, policy)


def compare(check: CheckInput, policy: Policy, alpha: float) -> CheckResult:
    """One check at ``alpha`` (see the module docstring)."""
    c, b = check.canary, check.baseline
    margin = policy.tolerance * check.budget
    difference = None if c.ratio is None or b.ratio is None else c.ratio - b.ratio
    ratio = None if c.ratio is None or not b.ratio else c.ratio / b.ratio
    interval = None if difference is None else difference_interval(c, b, 1 - 2 * alpha)
    p_value = one_sided_p(c, b) if c.total and b.total else None

    def result(verdict: Verdict, reason: str, needed: Needed | None = None) -> CheckResult:
        return CheckResult(check.name, verdict, c, b, difference, interval, ratio, p_value,
                           alpha, margin, needed, reason, check.detail)

    if p_value is not None and p_value < alpha:
        return result(Verdict.FAIL, f"the canary is worse: p = {p_value:.3g} < {alpha:.3g}")
    enough = min(c.total, b.total) >= policy.min_requests
    if enough and interval is not None and interval.high <= margin:
        return result(Verdict.PASS, f"at most {_pct(interval.high)} worse, within the "
                                    f"{_pct(margin)} margin")
    needed = requests_needed(c, b, margin, policy, alpha)
    if not enough:
        reason = f"fewer than {policy.min_requests} requests on a side"
    elif interval is None:
        reason = "no requests to compare"
    else:
        reason = (f"not shown worse (p = {p_value:.3g}) nor within the {_pct(margin)} margin "
                  f"(up to {_pct(interval.high)} worse)")
    return result(Verdict.INCONCLUSIVE, reason, needed)


def _pct(share: float) -> str:
    return f"{share * 100:.3g} pp"


def one_sided_p(canary: Counts, baseline: Counts) -> float:
    """Fisher's exact test, H1: the canary's bad share is higher than the baseline's."""
    from scipy.stats import fisher_exact  # a pure numerical library, imported when needed

    table = [[canary.bad, canary.total - canary.bad],
             [baseline.bad, baseline.total - baseline.bad]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def wilson(bad: int, total: int, confidence: float) -> tuple[float, float]:
    """Wilson score interval of ``bad / total`` (0..1 without requests)."""
    if total == 0:
        return 0.0, 1.0
    from scipy.stats import binomtest

    ci = binomtest(bad, total).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def difference_interval(canary: Counts, baseline: Counts, confidence: float) -> Interval:
    """Newcombe's hybrid score interval (his method 10) of canary share - baseline share."""
    assert canary.ratio is not None and baseline.ratio is not None
    p1, p2 = canary.ratio, baseline.ratio
    l1, u1 = wilson(canary.bad, canary.total, confidence)
    l2, u2 = wilson(baseline.bad, baseline.total, confidence)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Interval(low, high, confidence)


def sample_size(
    baseline_share: float, effect: float, ratio: float, alpha: float, power: float
) -> float:
    """Canary requests for a one-sided test at ``alpha`` to detect ``effect`` (a difference of
    shares) with ``power``, with ``ratio`` baseline requests per canary request (Fleiss)."""
    if effect <= 0 or ratio <= 0:
        raise ValueError("effect and ratio must be positive")
    p2 = min(max(baseline_share, 0.0), 1.0)
    p1 = min(p2 + effect, 1.0 - 1e-12)
    z_alpha = NormalDist().inv_cdf(1 - alpha)
    z_power = NormalDist().inv_cdf(power)
    pooled = (p1 + ratio * p2) / (1 + ratio)
    null_sd = math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio))
    alt_sd = math.sqrt(p1 * (1 - p1) + p2 * (1 - p2) / ratio)
    return ((z_alpha * null_sd + z_power * alt_sd) / (p1 - p2)) ** 2


def requests_needed(
    canary: Counts, baseline: Counts, margin: float, policy: Policy, alpha: float
) -> Needed:
    """More requests per side for a decision: power to detect the larger of the observed
    difference and the margin, at today's split (1:1 while a side has none), and at least
    ``min_requests`` per side."""
    observed = (
        canary.bad / canary.total - baseline.bad / baseline.total
        if canary.total and baseline.total else 0.0
    )
    effect = max(observed, margin)
    ratio = baseline.total / canary.total if canary.total and baseline.total else 1.0
    share = baseline.bad / baseline.total if baseline.total else 0.0
    n_canary = math.ceil(sample_size(share, effect, ratio, alpha, policy.power))
    n_baseline = math.ceil(n_canary * ratio)
    return Needed(
        max(n_canary - canary.total, policy.min_requests - canary.total, 0),
        max(n_baseline - baseline.total, policy.min_requests - baseline.total, 0),
        effect,
    )
