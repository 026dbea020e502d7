"""A closed period's figures against the shop's ground truth in a real Prometheus.

The week ending at the shop's last sample: each SLO's SLI over the week equals the generator's
ratio (increase() extrapolates numerator and denominator alike), and the share of budget the week
spent is the week's bad events over the budget of the SLO's own 28-day window at the week's end.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from sloctl.core.signals import Signal
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import Scenario
from sloctl.evaluation.period import measure_period
from sloctl.settings import load_settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs

pytestmark = pytest.mark.integration
SPECS = Path(__file__).resolve().parents[2] / "sloctl" / "demo" / "specs"
SERVICES = ("order", "inventory", "payment", "notification", "user")
WEEK = 7 * 86400


@pytest.fixture(scope="module")
def week(prometheus_shop: PrometheusServer, shop_end: datetime):  # type: ignore[no-untyped-def]
    settings = load_settings(None, {"SLOCTL_PROMETHEUS_URL": prometheus_shop.url})
    source = PrometheusSource(settings.prometheus)
    try:
        specs = [s for s in load_specs([SPECS]) if s.window.seconds]
        return measure_period(specs, settings, source, shop_end - timedelta(days=7), shop_end)
    finally:
        source.close()


@pytest.mark.parametrize("service", SERVICES)
def test_the_weeks_availability_equals_the_ground_truth(
    week, shop_scenario: Scenario, shop_sample_times: object,  # type: ignore[no-untyped-def]
    shop_end: datetime, service: str,
) -> None:
    truth = shop_scenario.truth_window(service, shop_end, WEEK,
                                       sample_times=shop_sample_times)  # type: ignore[arg-type]
    slo = next(s for s in week.slos if s.slo_id == f"{service}/availability")
    assert slo.period.window == WEEK and not slo.insufficient_data
    assert slo.period.error_ratio == pytest.approx(truth.error_ratio, rel=1e-6, abs=1e-12)
    assert slo.period.total == pytest.approx(truth.total * truth.extrapolation_factor, rel=1e-6)
    own = slo.status.window(28 * 86400)
    assert own is not None and own.total is not None and slo.period.bad is not None
    assert slo.budget_spent == pytest.approx(
        slo.period.bad / (slo.status.error_budget * own.total), rel=1e-12
    )


@pytest.mark.parametrize("service", SERVICES)
def test_the_weeks_latency_sli_is_exact(
    week, shop_scenario: Scenario, shop_sample_times: object,  # type: ignore[no-untyped-def]
    shop_end: datetime, service: str,
) -> None:
    truth = shop_scenario.truth_window(service, shop_end, WEEK,
                                       sample_times=shop_sample_times)  # type: ignore[arg-type]
    slo = next(s for s in week.slos if s.slo_id == f"{service}/latency")
    assert slo.period.sli == pytest.approx(1 - truth.latency_ratio(0.3), abs=1e-6)
    assert not slo.period.interpolated


def test_the_weeks_golden_signals_and_no_problems(
    week, shop_scenario: Scenario, shop_sample_times: object,  # type: ignore[no-untyped-def]
    shop_end: datetime,
) -> None:
    assert week.problems == ()
    payment = {v.signal: v.value for v in week.signals if v.service == "payment"}
    truth = shop_scenario.truth_window("payment", shop_end, WEEK,
                                       sample_times=shop_sample_times)  # type: ignore[arg-type]
    assert payment[Signal.ERROR_RATIO] == pytest.approx(truth.error_ratio, rel=1e-6)
    assert payment[Signal.TRAFFIC] == pytest.approx(
        truth.total * truth.extrapolation_factor / WEEK, rel=1e-6
    )


def test_a_period_must_end_after_it_starts(shop_end: datetime) -> None:
    from sloctl.evaluation.period import period_seconds

    with pytest.raises(ValueError, match="must end after it starts"):
        period_seconds(shop_end, shop_end)
