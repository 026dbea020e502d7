"""The engine against a real Prometheus, and a real VictoriaMetrics, holding the shop history:
values equal the ground truth on both.

The generator knows every counter exactly; Prometheus' ``increase()`` extrapolates numerator and
denominator by the same factor, so SLIs must match the generator's ratios to 1e-4 (in practice
far better), and counts must match the truth times the extrapolation factor. VictoriaMetrics
does not extrapolate: its ``increase()`` is the last sample in the window minus the sample at or
just before the window's start, so its counts are the generator's differences themselves (every
window here starts on a sample). Every test runs on both backends (``backend`` parameter).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal
from sloctl.core.windows import ALERT_WINDOWS, window_name
from sloctl.demo.scenario import FloatArray, Scenario, Truth, bucket_of
from sloctl.evaluation.cycle import Evaluator
from sloctl.settings import load_settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs
from sloctl.spec.models import HistogramLatency, SLOSpec, Window
from sloctl.store import Store
from tests.support.victoriametrics import victoriametrics_shop  # noqa: F401

pytestmark = pytest.mark.integration

SPECS = Path(__file__).resolve().parents[2] / "sloctl" / "demo" / "specs"
SERVICES = ("order", "inventory", "payment", "notification", "user")
BACKENDS = ("prometheus", "victoriametrics")


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def shop_url(backend: str, request: pytest.FixtureRequest) -> str:
    """The URL of the backend holding the shop history (``prometheus_shop`` or
    ``victoriametrics_shop``, both session-wide)."""
    server = request.getfixturevalue(f"{backend}_shop")
    url: str = server.url
    return url


def count_factor(backend: str, truth: Truth) -> float:
    """What ``increase()`` multiplies the true difference by: Prometheus extrapolates to the
    window's edges; VictoriaMetrics counts from the sample at the window's start, as is."""
    if backend == "victoriametrics":
        assert truth.first == truth.at - truth.window  # a sample on the window's start
        return 1.0
    return truth.extrapolation_factor


def make_engine(url: str, store_path: Path, specs: list[SLOSpec] | None = None) -> Evaluator:
    env = {"SLOCTL_PROMETHEUS_URL": url, "SLOCTL_STORE_URL": f"sqlite:///{store_path}",
           "SLOCTL_PROMETHEUS_TIMEOUT": "5"}
    settings = load_settings(None, env)
    return Evaluator(settings, specs if specs is not None else load_specs([SPECS]),
                  PrometheusSource(settings.prometheus), Store(settings.store_url))


@pytest.fixture(scope="module")
def evaluation(
    shop_url: str, shop_end: datetime, tmp_path_factory: pytest.TempPathFactory
) -> Evaluation:
    store = tmp_path_factory.mktemp("store") / "s.db"
    first = make_engine(shop_url, store).run_cycle(shop_end - timedelta(minutes=5))
    pending = {a.key for a in first.alerts if a.state == AlertState.PENDING}
    assert pending == {"default:error_ratio/payment", "default:latency_p95/inventory"}
    # a new engine on the same store, as after a restart: `for: 5m` completes and they fire
    return make_engine(shop_url, store).run_cycle(shop_end)


WINDOWS = [*ALERT_WINDOWS, 28 * 86400]


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("window", WINDOWS, ids=window_name)
def test_availability_sli_matches_ground_truth(
    evaluation: Evaluation, shop_scenario: Scenario, shop_sample_times: object,
    shop_end: datetime, service: str, window: int, backend: str,
) -> None:
    truth = shop_scenario.truth_window(service, shop_end, window,
                                       sample_times=shop_sample_times)  # type: ignore[arg-type]
    slo = next(s for s in evaluation.slos if s.slo_id == f"{service}/availability")
    w = slo.window(window)
    assert w is not None and w.sli is not None, w
    assert w.sli == pytest.approx(1 - truth.error_ratio, abs=1e-4)
    assert w.error_ratio == pytest.approx(truth.error_ratio, rel=1e-6, abs=1e-12)
    assert w.total == pytest.approx(truth.total * count_factor(backend, truth), rel=1e-6)
    assert not w.interpolated
    assert w.coverage == pytest.approx(1.0)


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("window", WINDOWS, ids=window_name)
def test_latency_sli_is_exact_at_a_bucket_bound(
    evaluation: Evaluation, shop_scenario: Scenario, shop_sample_times: object,
    shop_end: datetime, service: str, window: int,
) -> None:
    truth = shop_scenario.truth_window(service, shop_end, window,
                                       sample_times=shop_sample_times)  # type: ignore[arg-type]
    slo = next(s for s in evaluation.slos if s.slo_id == f"{service}/latency")
    w = slo.window(window)
    assert w is not None and w.sli is not None, w
    assert w.sli == pytest.approx(1 - truth.latency_ratio(0.3), abs=1e-4)
    assert not w.interpolated  # 0.3 is a bucket bound


def test_budget_and_burn_rates_follow_the_sli(evaluation: Evaluation) -> None:
    for slo in evaluation.slos:
        period = slo.window(slo.period_elapsed)
        assert period is not None
        if period.error_ratio is None:
            continue
        eb = 1 - slo.objective
        assert slo.budget_remaining == pytest.approx(1 - period.error_ratio / eb, rel=1e-9)
        assert slo.budget_remaining_minutes == pytest.approx(
            slo.budget_remaining * eb * slo.period / 60, rel=1e-9)
        for w in slo.windows:
            if w.error_ratio is not None:
                assert w.burn_rate == pytest.approx(w.error_ratio / eb, rel=1e-9)


@pytest.mark.parametrize("service", SERVICES)
def test_p95_within_the_bucket_of_the_true_quantile(
    evaluation: Evaluation, shop_scenario: Scenario, shop_end: datetime, service: str
) -> None:
    true_p95 = shop_scenario.true_quantile(service, 0.95, shop_end, 300)
    lo, hi = bucket_of(true_p95)
    got = next(v.value for v in evaluation.signals
               if v.service == service and v.signal == Signal.LATENCY_P95)
    assert got is not None
    assert lo <= got <= hi, (service, true_p95, got)


def test_default_alerts_fire_exactly_for_the_breaching_services(
    evaluation: Evaluation, shop_scenario: Scenario, shop_end: datetime
) -> None:
    expected = shop_scenario.breaching(shop_end)
    assert expected["error_ratio"] == {"payment"}
    assert expected["latency_p95"] == {"inventory"}
    for rule in ("error_ratio", "latency_p95"):
        firing = {a.service for a in evaluation.alerts
                  if a.rule == rule and a.state == AlertState.FIRING}
        assert firing == expected[rule], rule
        evaluated = {a.service for a in evaluation.alerts if a.rule == rule}
        assert evaluated == set(SERVICES)


def test_traffic_and_error_signals_match_truth(
    evaluation: Evaluation, shop_scenario: Scenario, shop_sample_times: object,
    shop_end: datetime, backend: str,
) -> None:
    for service in SERVICES:
        truth = shop_scenario.truth_window(service, shop_end, 300,
                                           sample_times=shop_sample_times)  # type: ignore[arg-type]
        got = {v.signal: v.value for v in evaluation.signals if v.service == service}
        rps = truth.total * count_factor(backend, truth) / 300
        assert got[Signal.TRAFFIC] == pytest.approx(rps, rel=1e-6)
        assert got[Signal.ERROR_RATIO] == pytest.approx(truth.error_ratio, rel=1e-6)
        assert got[Signal.SATURATION] is not None and got[Signal.SATURATION] > 0


def test_threshold_between_buckets_is_interpolated_and_flagged(
    shop_url: str, shop_scenario: Scenario, shop_sample_times: object,
    shop_end: datetime, tmp_path: Path,
) -> None:
    spec = SLOSpec(service="inventory", name="latency-400ms", objective=95,
                   window=Window(seconds=7 * 86400), service_label="service_name",
                   indicator=HistogramLatency("http_server_request_duration_seconds", (), 0.4))
    ev = make_engine(shop_url, tmp_path / "s.db", [spec]).run_cycle(shop_end)
    w = ev.slos[0].window(3600)
    assert w is not None and w.sli is not None and w.interpolated
    truth = shop_scenario.truth_window("inventory", shop_end, 3600,
                                       sample_times=shop_sample_times)  # type: ignore[arg-type]
    lo = truth.good_below(0.3) / truth.total
    hi = truth.good_below(0.5) / truth.total
    expected = lo + (hi - lo) * (0.4 - 0.3) / (0.5 - 0.3)  # linear inside the bucket
    assert w.sli == pytest.approx(expected, abs=1e-4)
    assert lo < w.sli < hi


def test_queries_do_not_grow_with_slos_sharing_a_metric(
    shop_url: str, shop_end: datetime, tmp_path: Path
) -> None:
    all_specs = load_specs([SPECS])
    one = [s for s in all_specs if s.slo_id in ("order/availability", "order/latency")]
    many = [s for s in all_specs if s.window.seconds]  # 10 SLOs over 5 services
    count_one = make_engine(shop_url, tmp_path / "a.db", one).run_cycle(
        shop_end).query_count
    count_many = make_engine(shop_url, tmp_path / "b.db", many).run_cycle(
        shop_end).query_count
    assert count_one == count_many
    # 8 windows x (total, bad, threshold buckets) + the full 5m histogram for p50/p95/p99
    # + 1 coverage (both SLOs count on _count; the signals read their 5m from it) + saturation
    assert count_many == 8 * 3 + 1 + 1 + 1


def test_evaluation_at_a_past_instant_is_reproducible(
    shop_url: str, shop_end: datetime, tmp_path: Path
) -> None:
    at = shop_end - timedelta(hours=7)
    a = make_engine(shop_url, tmp_path / "a.db").run_cycle(at)
    b = make_engine(shop_url, tmp_path / "b.db").run_cycle(at)
    assert a.at == b.at == at
    assert [s.sli for s in a.slos] == [s.sli for s in b.slos]
    assert [s.budget_remaining for s in a.slos] == [s.budget_remaining for s in b.slos]


def test_backend_down_then_recovers(
    shop_url: str, shop_end: datetime, tmp_path: Path
) -> None:
    from sloctl.demo.process import free_port

    store_path = tmp_path / "s.db"
    down = make_engine(f"http://127.0.0.1:{free_port()}", store_path)
    ev = down.run_cycle(shop_end - timedelta(minutes=1))
    assert down.last_unreachable
    assert ev.problems and "connection refused" in ev.problems[0]
    assert all(s.sli is None and s.reason for s in ev.slos)
    assert all(v.value is None and v.reason for v in ev.signals)
    stored = Store(f"sqlite:///{store_path}").evaluations.latest()
    assert stored is not None and stored.problems == ev.problems

    up = make_engine(shop_url, store_path)
    ev2 = up.run_cycle(shop_end)
    assert not ev2.problems and not up.last_unreachable
    assert all(s.sli is not None for s in ev2.slos)


@pytest.mark.parametrize("service", ["order", "payment"])
def test_between_samples_each_backend_counts_its_own_samples(
    shop_url: str, backend: str, shop_scenario: Scenario, shop_sample_times: object,
    shop_end: datetime, tmp_path: Path, service: str,
) -> None:
    """30 s after a sample (samples every 60 s) the 5m window has no sample on its start. The
    SLI is still the exact ratio of the samples each backend reads; only the counts differ:
    Prometheus reads the 5 samples in [at-300, at] and extrapolates their 240 s to 300 s
    (x 1.25); VictoriaMetrics reads the last sample (at-30) minus the one at or before at-300
    (at-330): 300 s of true counts, not extrapolated."""
    at = shop_end - timedelta(seconds=30)
    slo = next(s for s in make_engine(shop_url, tmp_path / "s.db").run_cycle(at).slos
               if s.slo_id == f"{service}/availability")
    w = slo.window(300)
    assert w is not None and w.sli is not None
    times: FloatArray = shop_sample_times  # type: ignore[assignment]
    if backend == "victoriametrics":
        truth = shop_scenario.truth_window(service, at - timedelta(seconds=30), 300,
                                           sample_times=times)
        expected_total = truth.total
    else:
        truth = shop_scenario.truth_window(service, at, 300, sample_times=times)
        assert truth.extrapolation_factor == pytest.approx(1.25)
        expected_total = truth.total * 1.25
    assert w.total == pytest.approx(expected_total, rel=1e-9)
    assert w.error_ratio == pytest.approx(truth.error_ratio, rel=1e-9)
    assert w.sli == pytest.approx(1 - truth.error_ratio, abs=1e-12)
