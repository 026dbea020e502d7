"""Log-based SLOs (Loki) are evaluated in the same cycle as the Prometheus ones."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sloctl.core.windows import ALERT_WINDOWS
from sloctl.demo.process import free_port
from sloctl.evaluation.cycle import Evaluator
from sloctl.settings import load_settings
from sloctl.sources.prometheus import PrometheusSource
from tests.support.fake_loki import FakeLoki
from tests.unit.test_log_slis import AT, SPECS, streams


@pytest.fixture()
def loki() -> Iterator[FakeLoki]:
    with FakeLoki(streams()) as server:
        yield server


def test_log_slos_join_the_cycle(loki: FakeLoki) -> None:
    settings = load_settings(None, {"SLOCTL_LOKI_URL": loki.url,
                                    "SLOCTL_PROMETHEUS_URL": f"http://127.0.0.1:{free_port()}"})
    source = PrometheusSource(settings.prometheus)
    engine = Evaluator(settings, SPECS, source)
    ev = engine.run_cycle(AT)
    by_id = {s.slo_id: s for s in ev.slos}
    assert set(by_id) == {s.slo_id for s in SPECS}
    five = by_id["checkout/log-errors"].window(300)
    assert five is not None and (five.bad, five.total) == (1.0, 4.0)
    assert five.error_ratio == pytest.approx(0.25)
    hour = by_id["checkout/log-fatal"].window(3600)
    assert hour is not None and hour.error_ratio == pytest.approx(3 / 5)
    # Prometheus is down: its SLO is unknown, the log SLOs are not
    assert by_id["checkout/availability"].sli is None
    assert engine.last_unreachable
    # 8 windows (7 alert windows + 28d) x (total, bad) x 2 distinct log indicators
    log_queries = {r.params["query"][0] for r in loki.requests}
    assert len(log_queries) == (len(ALERT_WINDOWS) + 1) * 2 * 2
