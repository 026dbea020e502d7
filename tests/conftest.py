"""Session fixtures: the shop scenario with known ground truth, backfilled into a real Prometheus.

``prometheus_shop`` never skips: without Debian's prometheus/promtool it fails with the install
hint. Other tests that need their own Prometheus (e.g. with rule files) copy ``shop_tsdb``::

    shutil.copytree(shop_tsdb, tmp_path / "data")
    with PrometheusServer(tmp_path / "data", rule_files=[...]) as prom: ...
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sloctl.demo import scenario as demo
from sloctl.demo.backfill import HistoryStats, load_history
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import FloatArray, Sampling, Scenario

# Test-friendly resolution: 10 min samples, 1 min samples over the last 3 days (~1.2 M samples).
SHOP_SAMPLING = Sampling(history_step=600, recent_step=60, recent_hours=72)


@pytest.fixture(scope="session")
def shop_end() -> datetime:
    """A fixed past instant: the hour 2-3 h ago (inside the 90d retention, before now)."""
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)


@pytest.fixture(scope="session")
def shop_scenario(shop_end: datetime) -> Scenario:
    """30 days of the shop ending at ``shop_end``."""
    return demo.shop_scenario(shop_end, history=timedelta(days=30))


@pytest.fixture(scope="session")
def shop_sampling() -> Sampling:
    return SHOP_SAMPLING


@pytest.fixture(scope="session")
def shop_sample_times(shop_scenario: Scenario) -> FloatArray:
    """The sample times of every backfilled series (pass to ``truth_window``)."""
    return SHOP_SAMPLING.times(shop_scenario)


@pytest.fixture(scope="session")
def shop_history(
    shop_scenario: Scenario, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, HistoryStats]:
    """A pristine TSDB folder with the shop history backfilled, and the write/backfill stats."""
    root = tmp_path_factory.mktemp("shop-history")
    tsdb = root / "tsdb"
    stats = load_history(shop_scenario, tsdb, sampling=SHOP_SAMPLING, tmp_dir=root)
    return tsdb, stats


@pytest.fixture(scope="session")
def shop_tsdb(shop_history: tuple[Path, HistoryStats]) -> Path:
    """Backfilled blocks; copy them before pointing a Prometheus at them."""
    return shop_history[0]


@pytest.fixture(scope="session")
def prometheus_shop(
    shop_tsdb: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    """One Prometheus serving the shop history for the whole session (query log enabled)."""
    data = tmp_path_factory.mktemp("prometheus-shop") / "data"
    shutil.copytree(shop_tsdb, data)
    with PrometheusServer(data, query_log=data.parent / "query.log") as server:
        yield server


@pytest.fixture(autouse=True)
def _forget_registered_secrets() -> Iterator[None]:
    """Each test starts without the secrets earlier tests' settings registered for redaction."""
    from sloctl.redact import forget_secrets

    forget_secrets()
    yield
