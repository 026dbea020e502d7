"""Integration fixtures: the shop's Prometheus with span metrics of known values beside it.

Also registers the OpenTelemetry app harness's fixtures (``otel_stack_config``, ``otel_stack``,
``otel_load``) from tests/support/otel_fixtures.py.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from sloctl.demo.backfill import backfill
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import Scenario
from tests.support.otel_fixtures import otel_load, otel_stack, otel_stack_config  # noqa: F401
from tests.support.span_metrics_history import (
    CLIENT,
    ConstantOperation,
    ShopCopy,
    write_span_metrics,
)

SPAN_STEP = 60  # seconds between span-metric samples
SPAN_HOURS = 6  # of span metrics, ending at shop_end

# payment calls its bank at 0.5/s, 2 % failing; half the calls within 0.1 s, 90 % within 0.3 s.
# Over any hour: 1800 calls, 36 failed, p50 0.1 s, p95 0.3 + 0.7 * 0.5 = 0.65 s, p99 0.93 s.
BANK = ConstantOperation(
    "payment",
    "POST /bank",
    CLIENT,
    rate=0.5,
    error_share=0.02,
    buckets=((0.1, 0.5), (0.3, 0.9), (1.0, 1.0), (math.inf, 1.0)),
)
# payment's server spans match its HTTP metrics; order's are halved (as head sampling at 50 %
# would leave them); inventory, notification and user have no span metrics.
SPAN_OPERATIONS = (ShopCopy("payment", "POST /charge"), BANK, ShopCopy("order", "GET /orders", 0.5))


def span_times(shop_end: datetime) -> list[float]:
    """The span metrics' sample times: every minute of the ``SPAN_HOURS`` before ``shop_end``."""
    end = int(shop_end.timestamp())
    return [float(end - k * SPAN_STEP) for k in range(SPAN_HOURS * 3600 // SPAN_STEP, -1, -1)]


@pytest.fixture(scope="session")
def prometheus_spans(
    shop_tsdb: Path,
    shop_scenario: Scenario,
    shop_end: datetime,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[PrometheusServer]:
    """The shop's history plus ``SPAN_OPERATIONS`` as span metrics, in one Prometheus."""
    root = tmp_path_factory.mktemp("prometheus-spans")
    data = root / "data"
    shutil.copytree(shop_tsdb, data)
    openmetrics = root / "spans.om"
    write_span_metrics(openmetrics, SPAN_OPERATIONS, span_times(shop_end), shop_scenario)
    backfill(openmetrics, data)
    with PrometheusServer(data) as server:
        yield server
