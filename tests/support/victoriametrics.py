"""VictoriaMetrics for the truth tests: ``sloctl.demo.victoriametrics_server`` (also the bench's).

``victoriametrics_shop`` holds the same shop history as ``prometheus_shop`` (tests/conftest.py:
same scenario, same sample times), imported over HTTP instead of backfilled. Like
``prometheus_shop`` it never skips: without Debian's victoria-metrics it fails with the install
hint. Import the fixture into a test module (``from tests.support.victoriametrics import
victoriametrics_shop  # noqa: F401``), or ask for it by name through ``shop_backend``.

VictoriaMetrics 1.79 answers the same PromQL differently in two ways that matter to sloctl:

- ``increase(x[w])`` at ``t`` is ``last - prev``: the last sample in ``(t - w, t]`` minus the last
  one at or before ``t - w`` (when it lies within about 1.1 scrape intervals of it), never
  extrapolated. Without such a previous sample the first sample in the range counts from 0 when
  it is small next to the series' next increase (a new counter), else the range starts at it;
- ranges, subqueries included, are left-open ``(t - w, t]``: a coverage subquery at a multiple of
  its step has 100 steps, not Prometheus 2's 101.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from sloctl.demo.scenario import Sampling, Scenario
from sloctl.demo.victoriametrics_server import (
    INSTALL_HINT,
    ImportStats,
    VictoriaMetricsServer,
    scenario_text,
)

__all__ = [
    "INSTALL_HINT",
    "ImportStats",
    "VictoriaMetricsServer",
    "load_scenario",
    "scenario_text",
    "victoriametrics_shop",
]


def load_scenario(
    vm: VictoriaMetricsServer, scenario: Scenario, sampling: Sampling, at: datetime
) -> ImportStats:
    """Import ``scenario`` at ``sampling``'s times and wait (polling) until every sample of the
    request counters is searchable at ``at``."""
    times = sampling.times(scenario)
    stats = vm.import_scenario(scenario, times)
    services = len(scenario.service_names)
    first = int(times[0])
    window = int(at.timestamp()) - first + 1  # (at - window, at] holds every sample
    vm.wait_visible(
        f"sum(count_over_time(http_server_request_duration_seconds_count[{window}s]))",
        expect=2 * services * int((times <= at.timestamp()).sum()),
        at=at.timestamp(),
    )
    return stats


@pytest.fixture(scope="session")
def victoriametrics_shop(
    shop_scenario: Scenario, shop_sampling: Sampling, shop_end: datetime,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[VictoriaMetricsServer]:
    """One VictoriaMetrics serving the shop history for the whole session."""
    root = tmp_path_factory.mktemp("victoriametrics-shop")
    with VictoriaMetricsServer(root / "data") as vm:
        load_scenario(vm, shop_scenario, shop_sampling, shop_end)
        yield vm
