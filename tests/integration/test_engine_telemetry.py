"""sloctl traces its own evaluation cycle: one cycle span, one client span per backend query."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.evaluation.cycle import Evaluator
from sloctl.settings import load_settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs
from sloctl.telemetry import setup_telemetry
from tests.integration.test_telemetry import Receiver, receiver  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration
SPECS = Path(__file__).resolve().parents[2] / "sloctl" / "demo" / "specs"


def test_cycle_and_query_spans_are_exported(
    receiver: Receiver,  # noqa: F811
    prometheus_shop: PrometheusServer, shop_end: datetime,
) -> None:
    settings = load_settings(None, {"SLOCTL_PROMETHEUS_URL": prometheus_shop.url,
                                    "SLOCTL_OTLP_ENDPOINT": receiver.url})
    telemetry = setup_telemetry(settings)
    source = PrometheusSource(settings.prometheus, telemetry)
    engine = Evaluator(settings, load_specs([SPECS]), source, None, telemetry)
    try:
        ev = engine.run_cycle(shop_end)
    finally:
        telemetry.shutdown()
        source.close()
    spans = [span for export in receiver.exports for rs in export.request.resource_spans
             for ss in rs.scope_spans for span in ss.spans]
    cycles = [s for s in spans if s.name == "sloctl.evaluation_cycle"]
    queries = [s for s in spans if s.name != "sloctl.evaluation_cycle"]
    assert len(cycles) == 1
    assert len(queries) == ev.query_count
    assert all(q.parent_span_id == cycles[0].span_id for q in queries)
    assert all(q.trace_id == cycles[0].trace_id for q in queries)
