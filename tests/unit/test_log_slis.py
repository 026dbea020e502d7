"""Log-based SLIs: LogQL in the cycle's plan, hand-counted error/total lines from a fake Loki."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sloctl.core.samples import Sample
from sloctl.core.windows import ALERT_WINDOWS, DataState, WindowCounts
from sloctl.errors import BackendQueryError
from sloctl.evaluation.assemble import Results, window_counts
from sloctl.evaluation.fetch import LokiMetrics, fetch
from sloctl.evaluation.plan import CyclePlan, Query, plan_cycle
from sloctl.settings import LokiSettings, Settings
from sloctl.sources.loki import LokiSource, to_ns
from sloctl.spec.models import LogRatio, Matcher, MetricRatio, SLOSpec, Window
from tests.support.fake_loki import FakeLoki, FakeStream

AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
T = to_ns(AT)
S = 10**9
WINDOWS = (300, 3600, 86400)
PROD = (Matcher("env", "=", "prod"),)
BY_TEXT = LogRatio(PROD, error_filter="level=error")
BY_REGEX = LogRatio(PROD, error_regex="level=(error|fatal)")


def slo(service: str, name: str, indicator: LogRatio | MetricRatio) -> SLOSpec:
    return SLOSpec(service, name, 99.0, Window(28 * 86400), "service_name", indicator)


SPECS = [
    slo("checkout", "log-errors", BY_TEXT),
    slo("cart", "log-errors", BY_TEXT),
    slo("search", "log-errors", BY_TEXT),
    slo("checkout", "log-fatal", BY_REGEX),
    slo("checkout", "availability", MetricRatio("http_requests_total", (), ())),
]


def streams() -> list[FakeStream]:
    """Lines at T - seconds; counts per window are worked out in the test table below."""
    checkout = [
        (60, "level=error boom"),
        (90, "level=fatal crash"),
        (120, "level=info ok"),
        (240, "level=info ok"),
        (1000, "level=error timeout"),  # in 1h, not in 5m
        (7200, "level=info late"),  # in 1d only
        (90000, "level=error old"),  # older than 1d
    ]
    return [
        FakeStream(
            {"service_name": "checkout", "env": "prod"},
            [(T - s * S, line, {}) for s, line in checkout],
        ),
        FakeStream({"service_name": "checkout", "env": "dev"}, [(T - 30 * S, "level=error d", {})]),
        FakeStream(
            {"service_name": "cart", "env": "prod"},
            [(T - 10 * S, "level=info a", {}), (T - 20 * S, "level=info b", {})],
        ),
        FakeStream({"service_name": "other", "env": "prod"}, [(T - 5 * S, "level=error o", {})]),
    ]


@pytest.fixture()
def loki() -> Iterator[FakeLoki]:
    with FakeLoki(streams()) as server:
        yield server


def _loki_plan(specs: list[SLOSpec]) -> CyclePlan:
    return plan_cycle(specs, Settings(), AT)


def _log_counts(
    specs: list[SLOSpec], source: LokiSource, windows: tuple[int, ...]
) -> dict[str, list[WindowCounts]]:
    """Plan the cycle, fetch its Loki queries, count each log SLO's windows (as a cycle does)."""
    plan = _loki_plan(specs)
    queries = [q for q in plan.queries() if q.backend == "loki"]
    results = Results(fetch(queries, AT, {"loki": LokiMetrics(source)}))
    return {
        p.spec.slo_id: [
            window_counts(p.spec, wq, results, None) for wq in p.windows if wq.window in windows
        ]
        for p in plan.slos
        if isinstance(p.spec.indicator, LogRatio)
    }


def test_plan_batches_one_query_per_window_and_group() -> None:
    plan = _loki_plan(SPECS)
    log_plans = {p.spec.slo_id: p for p in plan.slos if isinstance(p.spec.indicator, LogRatio)}
    assert sorted(log_plans) == [
        "cart/log-errors",
        "checkout/log-errors",
        "checkout/log-fatal",
        "search/log-errors",
    ]
    loki = [q for q in plan.queries() if q.backend == "loki"]
    windows = len(ALERT_WINDOWS) + 1  # and the 28d SLO window
    assert len(loki) == 4 * windows  # (total, bad) x 2 indicators x windows
    cart = log_plans["cart/log-errors"].windows
    assert cart[0].total == Query(
        "loki",
        'sum by (service_name) (count_over_time({env="prod",service_name=~"cart|checkout|search"}'
        " [5m]))",
    )
    assert log_plans["checkout/log-errors"].windows == cart  # the same queries serve all three
    assert all(p.coverage is None for p in log_plans.values())


EXPECTED = {
    "checkout/log-errors": [(300, 1.0, 4.0), (3600, 2.0, 5.0), (86400, 2.0, 6.0)],
    "checkout/log-fatal": [(300, 2.0, 4.0), (3600, 3.0, 5.0), (86400, 3.0, 6.0)],
    "cart/log-errors": [(300, 0.0, 2.0), (3600, 0.0, 2.0), (86400, 0.0, 2.0)],
}


def test_counts_from_fake_loki(loki: FakeLoki) -> None:
    with LokiSource(LokiSettings(url=loki.url)) as source:
        counts = _log_counts(SPECS, source, WINDOWS)
    for slo_id, rows in EXPECTED.items():
        assert [(c.window, c.bad, c.total) for c in counts[slo_id]] == rows, slo_id
        assert all(c.reason is None for c in counts[slo_id])
    assert counts["search/log-errors"] == [
        WindowCounts(w, None, None, reason=f'no log lines for service_name="search" over {n}',
                     state=DataState.NO_DATA)
        for w, n in zip(WINDOWS, ("5m", "1h", "1d"), strict=True)
    ]
    assert "checkout/availability" not in counts
    queries = [r.params["query"][0] for r in loki.requests]
    assert len(queries) == 32 and len(set(queries)) == 32
    assert {r.params["time"][0] for r in loki.requests} == {str(T)}


def test_unreachable_loki_makes_every_window_unknown() -> None:
    with FakeLoki([]) as server:
        url = server.url
    with LokiSource(LokiSettings(url=url, timeout_seconds=2)) as source:
        counts = _log_counts(SPECS[:1], source, (300,))
    [c] = counts["checkout/log-errors"]
    assert (c.bad, c.total, c.state) == (None, None, None)
    assert c.reason is not None and "cannot connect" in c.reason and "SLOCTL_LOKI_URL" in c.reason


def test_failed_bad_query_keeps_the_total() -> None:
    plan = _loki_plan(SPECS[:1])
    [p] = plan.slos
    wq = p.windows[0]
    assert wq.total is not None and wq.bad is not None
    results = Results({
        wq.total: [
            Sample({"service_name": "checkout"}, 7.0),
            Sample({"service_name": "cart"}, 3.0),
        ],
        wq.bad: BackendQueryError("loki", "HTTP 504: request timed out", status=504),
    })
    c = window_counts(p.spec, wq, results, None)
    assert (c.bad, c.total, c.reason) == (None, 7.0, "loki: HTTP 504: request timed out")
