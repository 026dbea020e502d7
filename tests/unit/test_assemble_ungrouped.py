"""Ungrouped raw-PromQL SLIs (Sloth, OpenSLO): their queries select the SLO's series
themselves, so every row they return counts, whatever its labels."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sloctl.core.alert_eval import SloAlerting
from sloctl.core.samples import Sample
from sloctl.core.windows import DataState
from sloctl.evaluation.assemble import AlertConfig, Assembled, Outcome, assemble
from sloctl.evaluation.plan import CyclePlan, Query, plan_cycle
from sloctl.settings import Settings
from sloctl.spec.models import QueryRatio, SLOSpec, Window
from sloctl.spec.query_templates import error_ratio

AT = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
TOTAL = 'sum(rate(http_requests_total{job="api"}[{{window}}]))'
BAD = 'sum(rate(http_requests_total{job="api",code=~"5.."}[{{window}}]))'


def spec(indicator: QueryRatio) -> SLOSpec:
    return SLOSpec("api", "availability", 99.0, Window(30 * 86400), "service", indicator)


def answers(plan: CyclePlan, total: list[Sample], bad: list[Sample],
            steps: float = 100.0) -> dict[Query, Outcome]:
    """The same rows for every window; coverage rows carry only their window label."""
    raw: dict[Query, Outcome] = {}
    [p] = plan.slos
    for w in p.windows:
        assert w.total is not None and w.bad is not None
        raw[w.total], raw[w.bad] = total, bad
    assert p.coverage is not None
    raw[p.coverage] = [Sample({"sloctl_window": str(w.window)}, steps)
                       for w in p.windows if steps]
    for sq in (sq for groups in plan.signals.values() for sq in groups):
        for q in (sq.total, sq.bad, sq.buckets, sq.saturation, sq.coverage):
            raw[q] = []
    return raw


def run(plan: CyclePlan, raw: dict[Query, Outcome]) -> Assembled:
    alerting = {p.spec.slo_id: SloAlerting(p.spec.service, p.spec.name) for p in plan.slos}
    return assemble(plan, raw, at=AT, prev={}, config=AlertConfig(), alerting=alerting)


def test_rows_without_the_service_label_count_when_ungrouped() -> None:
    plan = plan_cycle([spec(QueryRatio(TOTAL, BAD, None, ungrouped=True))], Settings(), AT)
    out = run(plan, answers(plan, [Sample({}, 400.0)], [Sample({}, 2.0)]))
    [status] = out.slos
    assert status.sli == pytest.approx(0.995, rel=1e-12)
    assert all(w.coverage == 1.0 and w.state is DataState.OK for w in status.windows)
    assert not any(p.startswith("no data: api/") for p in out.problems)


def test_every_row_is_summed() -> None:
    plan = plan_cycle([spec(QueryRatio(TOTAL, BAD, None, ungrouped=True))], Settings(), AT)
    total = [Sample({"code": "200"}, 390.0), Sample({"code": "503"}, 10.0)]
    bad = [Sample({"code": "503"}, 6.0), Sample({"code": "500"}, 4.0)]
    [status] = run(plan, answers(plan, total, bad)).slos
    assert status.sli == pytest.approx(1 - 10 / 400, rel=1e-12)


def test_the_same_rows_are_no_data_for_a_grouped_template() -> None:
    """Without the flag a row must carry the service label: that is what the flag changes."""
    plan = plan_cycle([spec(QueryRatio(TOTAL, BAD, None))], Settings(), AT)
    [status] = run(plan, answers(plan, [Sample({}, 400.0)], [Sample({}, 2.0)])).slos
    assert status.no_data and status.sli is None


def test_no_rows_at_all_is_no_data_with_the_query_named() -> None:
    plan = plan_cycle([spec(QueryRatio(TOTAL, BAD, None, ungrouped=True))], Settings(), AT)
    out = run(plan, answers(plan, [], [], steps=0))
    [status] = out.slos
    assert status.no_data and status.sli is None
    five = status.window(300)
    assert five is not None and five.reason == "no series from the total query over 5m"
    [blind] = [p for p in out.problems if p.startswith("no data: api/availability: ")]
    assert TOTAL in blind and 'service="api"' not in blind


def test_coverage_of_an_ungrouped_template_sums_its_rows_first() -> None:
    plan = plan_cycle([spec(QueryRatio(TOTAL, BAD, None, ungrouped=True))], Settings(), AT)
    coverage = plan.slos[0].coverage
    assert coverage is not None
    five = TOTAL.replace("{{window}}", "5m")
    assert coverage.text.startswith(f"label_replace(count_over_time((sum({five}))[5m:")


def test_a_raw_error_ratio_counts_one_event_per_window() -> None:
    ratio = error_ratio('sum(rate(errors[{{window}}])) / sum(rate(requests[{{window}}]))')
    plan = plan_cycle([spec(ratio)], Settings(), AT)
    [status] = run(plan, answers(plan, [Sample({}, 1.0)], [Sample({}, 0.002)])).slos
    five = status.window(300)
    assert five is not None and five.total == 1.0
    assert five.sli == pytest.approx(0.998, rel=1e-12)
    assert five.burn_rate == pytest.approx(0.2, rel=1e-12)
