"""One canary judgement, end to end: plan the SLIs, fetch both sides, judge, describe.

``judge_canary`` is what ``sloctl canary`` and ``GET /api/v1/canary`` share; ``report_json`` is
the answer both give (``-o json`` and the HTTP body, the shape Argo Rollouts' web provider and
Flagger's webhooks read: ``verdict``, ``pass``, ``fail``, ``code``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sloctl.canary.fetch import Fetched, SideData, Source, fetch
from sloctl.canary.plan import CanaryPlan, Sli, plan
from sloctl.canary.sides import CanaryRequestError, Side, resolve_sides
from sloctl.core.canary import CheckInput, CheckResult, Counts, Judgement, Policy, Verdict, judge
from sloctl.core.canary_latency import quantile_check, threshold_check
from sloctl.dora.model import VERSION_LABELS
from sloctl.errors import EXIT_BREACH, EXIT_INCONCLUSIVE, EXIT_NO_DATA, EXIT_OK
from sloctl.settings import Settings
from sloctl.spec.models import HistogramLatency, SLOSpec

EXIT_PASS, EXIT_FAIL = EXIT_OK, EXIT_BREACH
EXIT_CODES = {Verdict.PASS: EXIT_PASS, Verdict.FAIL: EXIT_FAIL,
              Verdict.INCONCLUSIVE: EXIT_INCONCLUSIVE}
QUANTILE = 0.95
DEFAULT_SINCE = 900


@dataclass(frozen=True)
class CanaryRequest:
    """What to judge; ``canary``/``baseline`` are matchers or bare values (see ``sides``)."""

    service: str
    canary: str | None = None
    baseline: str | None = None
    canary_service: str | None = None
    baseline_service: str | None = None
    since: int = DEFAULT_SINCE  # seconds before ``at``
    objectives: tuple[str, ...] = ()
    policy: Policy = field(default_factory=Policy)
    version: str | None = None  # the deployed version the canary runs (default: from a side)
    environment: str | None = None

    def __post_init__(self) -> None:
        if self.since < 60:
            raise CanaryRequestError("since", f"at least 60 s, got {self.since} s")


@dataclass(frozen=True)
class CanaryReport:
    request: CanaryRequest
    at: datetime
    canary: Side
    baseline: Side
    slis: tuple[Sli, ...]
    judgement: Judgement
    no_data: tuple[str, ...]  # sides/SLIs that matched no series
    notes: tuple[str, ...] = ()
    version: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # deployment, stored id

    @property
    def verdict(self) -> Verdict:
        return self.judgement.verdict

    @property
    def exit_code(self) -> int:
        """0 pass, 1 fail, 6 inconclusive; 4 when a side matched no series at all."""
        if self.no_data and self.verdict != Verdict.FAIL:
            return EXIT_NO_DATA
        return EXIT_CODES[self.verdict]


def judge_canary(
    request: CanaryRequest,
    specs: list[SLOSpec],
    settings: Settings,
    source: Source,
    at: datetime,
) -> CanaryReport:
    """Judge the canary of ``request.service`` over ``[at - since, at]``."""
    signals = settings.signals
    the_plan = plan(request.service, specs, signals.http_preset, signals.identity,
                    request.objectives)
    canary, baseline = resolve_sides(
        request.service, request.canary, request.baseline, request.canary_service,
        request.baseline_service, the_plan.layout)
    fetched = fetch(source, the_plan.slis, canary, baseline, request.since, at)
    inputs, no_data = _inputs(the_plan, fetched, canary, baseline, request.policy)
    return CanaryReport(
        request, at, canary, baseline, the_plan.slis, judge(inputs, request.policy),
        tuple(no_data), the_plan.notes, request.version or _version_of(canary),
    )


def _inputs(
    the_plan: CanaryPlan, fetched: Fetched, canary: Side, baseline: Side, policy: Policy
) -> tuple[list[CheckInput], list[str]]:
    checks = sum(2 if isinstance(s.indicator, HistogramLatency) else 1 for s in the_plan.slis)
    alpha = policy.alpha / checks
    inputs: list[CheckInput] = []
    no_data: list[str] = []
    for sli, c, b in zip(the_plan.slis, fetched.canary, fetched.baseline, strict=True):
        for name, side, data in (("canary", canary, c), ("baseline", baseline, b)):
            if not data.found:
                no_data.append(f"{sli.slo}: no series for the {name} ({side.describe()})")
        ind = sli.indicator
        if isinstance(ind, HistogramLatency):
            slow = threshold_check(c.buckets or (), b.buckets or (), ind.threshold, sli.budget)
            tail = quantile_check(c.buckets or (), b.buckets or (), QUANTILE, alpha)
            inputs += [_with_slo(slow, sli), _with_slo(tail, sli)]
        else:
            inputs.append(CheckInput("errors", _counts(c), _counts(b), sli.budget,
                                     {"slo": sli.slo}))
    return inputs, no_data


def _with_slo(check: CheckInput, sli: Sli) -> CheckInput:
    return CheckInput(check.name, check.canary, check.baseline, check.budget,
                      {"slo": sli.slo, **check.detail})


def _counts(data: SideData) -> Counts:
    return Counts.of(data.bad or 0.0, data.total or 0.0)


def _version_of(side: Side) -> str | None:
    """The version a side selects exactly (``version="v2"``), if it names one."""
    for m in side.matchers:
        if m.op == "=" and m.label in VERSION_LABELS:
            return m.value
    return None


# -- the JSON answer --------------------------------------------------------------------------


def report_json(report: CanaryReport) -> dict[str, Any]:
    """The judgement as JSON values: verdict, booleans and code for gates, then the detail."""
    j = report.judgement
    policy = j.policy
    return {
        "verdict": j.verdict.value,
        "pass": j.verdict == Verdict.PASS,
        "fail": j.verdict == Verdict.FAIL,
        "code": report.exit_code,
        "service": report.request.service,
        "version": report.version,
        "environment": report.request.environment,
        "at": report.at.isoformat(),
        "since_seconds": report.request.since,
        "canary": _side_json(report.canary, j, "canary"),
        "baseline": _side_json(report.baseline, j, "baseline"),
        "needed": None if j.needed is None else {
            "canary": j.needed.canary, "baseline": j.needed.baseline},
        "policy": {"alpha": policy.alpha, "power": policy.power,
                   "min_requests": policy.min_requests, "tolerance": policy.tolerance},
        "checks": [_check_json(c) for c in j.checks],
        "no_data": list(report.no_data),
        "notes": list(report.notes),
        **report.extra,
    }


def _side_json(side: Side, j: Judgement, which: str) -> dict[str, Any]:
    totals = [getattr(c, which).total for c in j.checks]
    return {"service": side.service, "selector": side.selector,
            "requests": max(totals) if totals else 0}


def _check_json(c: CheckResult) -> dict[str, Any]:
    def side(counts: Counts) -> dict[str, Any]:
        return {"bad": counts.bad, "total": counts.total, "ratio": counts.ratio}

    return {
        "name": c.name,
        "verdict": c.verdict.value,
        "reason": c.reason,
        "canary": side(c.canary),
        "baseline": side(c.baseline),
        "difference": c.difference,
        "interval": None if c.interval is None else {
            "low": c.interval.low, "high": c.interval.high,
            "confidence": c.interval.confidence},
        "ratio": c.ratio,
        "p_value": c.p_value,
        "alpha": c.alpha,
        "margin": c.margin,
        "needed": None if c.needed is None else {
            "canary": c.needed.canary, "baseline": c.needed.baseline,
            "effect": c.needed.effect},
        **{k: _plain(v) for k, v in c.detail.items()},
    }


def _plain(value: object) -> object:
    """Intervals as objects, non-finite floats as None (JSON has neither)."""
    if hasattr(value, "low") and hasattr(value, "high"):
        return {"low": _plain(value.low), "high": _plain(value.high),
                "confidence": getattr(value, "confidence", None)}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
