"""``sloctl eval`` traces its evaluation cycle: one cycle span, one client span per backend query,
exported by a real child process to a local OTLP receiver."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from sloctl.demo.prometheus_server import PrometheusServer
from tests.support.otlp_receiver import otlp_receiver
from tests.support.sloctl_process import run_sloctl, sloctl_env

pytestmark = pytest.mark.integration


def test_eval_exports_a_cycle_span_with_a_client_span_per_query(
    prometheus_shop: PrometheusServer, shop_end: datetime, tmp_path: Path
) -> None:
    with otlp_receiver() as receiver:
        env = sloctl_env(tmp_path, prometheus_url=prometheus_shop.url, otlp_endpoint=receiver.url)
        done = run_sloctl(
            ["eval", "--at", shop_end.isoformat(), "--output", "json", "--quiet"], env, tmp_path
        )
    assert done.returncode == 0, done.stderr
    query_count = json.loads(done.stdout)["query_count"]
    [cycle] = receiver.named("sloctl.evaluation_cycle")
    queries = receiver.named("sloctl.backend_query")
    assert query_count > 0 and len(queries) == query_count
    port = urlsplit(prometheus_shop.url).port
    for q in queries:
        assert (q.span.trace_id, q.span.parent_span_id) == (cycle.span.trace_id, cycle.span.span_id)
        assert q.span.kind == ProtoSpan.SPAN_KIND_CLIENT
        assert q.span.status.code == Status.STATUS_CODE_UNSET  # Prometheus answered
        assert (q.attributes["server.address"], q.attributes["server.port"]) == ("127.0.0.1", port)
        assert q.attributes["sloctl.backend"] == "prometheus"
    texts = {q.attributes["sloctl.query.text"] for q in queries}
    assert len(texts) == query_count  # one span per distinct query
