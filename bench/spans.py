"""Span parsing + aggregation throughput: sloctl vs a plain ``json`` + Python loop baseline.

Generates N spans (default 1,000,000) as one api_v3 ``GET /api/v3/traces`` answer in OTLP/JSON
(the shapes of the Jaeger fixtures: hex ids, integer ``kind`` and ``status.code``, nanosecond
times as strings, HTTP attributes, events), then times in the same run, on one core:

(a) sloctl: ``parse_api_v3_span_arrays`` (native scanner into numpy columns) + ``span_stats``;
(b) sloctl without the native scanner: ``parse_api_v3_traces`` (msgspec) + ``span_stats``;
(c) baseline: ``json.loads`` + one Python loop applying the same error rules and aggregation.

All must agree on every per-service count, error count and p95; the script prints spans/s for
each, the ratios and a machine-speed calibration. Target: sloctl >= 500k spans/s. Exit 1 if
they disagree or the native scanner is not built.
Usage: ``python bench/spans.py [--spans N] [--repeats R]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable
from typing import Any

import msgspec

from sloctl.core.span_stats import span_stats
from sloctl.core.spans import SpanStats
from sloctl.sources.jaeger_parse import (
    NATIVE_SCANNER,
    parse_api_v3_span_arrays,
    parse_api_v3_traces,
)

TARGET_SPANS_PER_SECOND = 500_000
WINDOW_SECONDS = 3600.0
# One request: (service, span name, kind, parent index within the trace or -1).
TRACE_SHAPE: tuple[tuple[str, str, int, int], ...] = (
    ("frontend", "GET /checkout", 2, -1),
    ("frontend", "POST", 3, 0),
    ("checkout", "POST /orders", 2, 1),
    ("checkout", "SELECT orders", 3, 2),
    ("payment", "POST /charge", 2, 2),
)
BASE_NS = 1_700_000_000_000_000_000


def _attribute(key: str, value: object) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def generate_body(n_spans: int, seed: int = 7) -> bytes:
    """An api_v3 search answer with ``n_spans`` spans, grouped per trace and service."""
    rng = random.Random(seed)
    resource_spans: list[dict[str, Any]] = []
    produced = 0
    trace_no = 0
    while produced < n_spans:
        trace_no += 1
        trace_id = f"{trace_no:032x}"
        start = BASE_NS + trace_no * 3_000_000
        by_service: dict[str, list[dict[str, Any]]] = {}
        for i, (service, name, kind, parent) in enumerate(TRACE_SHAPE):
            if produced >= n_spans:
                break
            produced += 1
            status_code = rng.choice((200, 200, 200, 200, 200, 200, 201, 404, 500, 503))
            duration = int(rng.lognormvariate(16, 0.6))
            span: dict[str, Any] = {
                "traceId": trace_id,
                "spanId": f"{trace_no:012x}{i:04x}",
                "name": name,
                "kind": kind,
                "startTimeUnixNano": str(start + i * 1000),
                "endTimeUnixNano": str(start + i * 1000 + duration),
                "attributes": [
                    _attribute("http.request.method", "POST" if kind == 3 else "GET"),
                    _attribute("url.path", "/" + name.split("/")[-1]),
                    _attribute("server.address", service),
                    _attribute("network.protocol.version", "1.1"),
                    _attribute("http.response.status_code", status_code),
                ],
                "status": {"code": 2} if status_code >= 500 and rng.random() < 0.5 else {},
            }
            if parent >= 0:
                span["parentSpanId"] = f"{trace_no:012x}{parent:04x}"
            if rng.random() < 0.1:
                span["events"] = [
                    {
                        "timeUnixNano": str(start),
                        "name": "retry",
                        "attributes": [_attribute("attempt", 2)],
                    }
                ]
            by_service.setdefault(service, []).append(span)
        for service, spans in by_service.items():
            resource_spans.append(
                {
                    "resource": {"attributes": [_attribute("service.name", service)]},
                    "scopeSpans": [{"scope": {"name": "bench", "version": "1.0"}, "spans": spans}],
                }
            )
    return msgspec.json.encode({"result": {"resourceSpans": resource_spans}})


def _per_service(stats: SpanStats) -> dict[str, tuple[int, int, float]]:
    return {
        s.service: (s.stats.requests, s.stats.errors, s.stats.p95_seconds) for s in stats.services
    }


def sloctl_stats(body: bytes) -> dict[str, tuple[int, int, float]]:
    """(requests, errors, p95 seconds) per service, computed by sloctl (native scanner)."""
    return _per_service(span_stats(parse_api_v3_span_arrays(body), WINDOW_SECONDS))


def fallback_stats(body: bytes) -> dict[str, tuple[int, int, float]]:
    """The same through sloctl's msgspec parser (used when the scanner was not built)."""
    return _per_service(span_stats(parse_api_v3_traces(body), WINDOW_SECONDS))


def baseline_stats(body: bytes) -> dict[str, tuple[int, int, float]]:
    """The same numbers with ``json.loads`` and a straightforward Python loop."""
    data = json.loads(body)
    durations: dict[str, list[int]] = {}
    errors: dict[str, int] = {}
    for rs in data["result"]["resourceSpans"]:
        service = "unknown_service"
        for kv in rs.get("resource", {}).get("attributes", []):
            if kv["key"] == "service.name":
                service = kv["value"]["stringValue"]
        for ss in rs.get("scopeSpans", []):
            for sp in ss.get("spans", []):
                kind = sp.get("kind", 0)
                if kind not in (2, 5) and sp.get("parentSpanId"):
                    continue
                attrs = {kv["key"]: kv["value"] for kv in sp.get("attributes", [])}
                error = sp.get("status", {}).get("code") == 2
                error = error or attrs.get("error", {}).get("boolValue") is True
                error = error or attrs.get("otel.status_code", {}).get("stringValue") == "ERROR"
                http = attrs.get("http.response.status_code") or attrs.get("http.status_code")
                if http is not None and kind in (2, 3):
                    code = int(http.get("intValue", 0))
                    error = error or code >= (500 if kind == 2 else 400)
                d = int(sp["endTimeUnixNano"]) - int(sp["startTimeUnixNano"])
                durations.setdefault(service, []).append(d)
                errors[service] = errors.get(service, 0) + (1 if error else 0)
    result = {}
    for service, values in durations.items():
        values.sort()
        pos = (len(values) - 1) * 0.95
        low = math.floor(pos)
        high = min(low + 1, len(values) - 1)
        p95 = values[low] + (values[high] - values[low]) * (pos - low)
        result[service] = (len(values), errors[service], p95 / 1e9)
    return result


def timed(
    fn: Callable[[bytes], dict[str, tuple[int, int, float]]], body: bytes, repeats: int
) -> tuple[float, dict[str, tuple[int, int, float]]]:
    """Best wall time of ``repeats`` runs (GC collected before each) and the last result."""
    best = math.inf
    result: dict[str, tuple[int, int, float]] = {}
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        result = fn(body)
        best = min(best, time.perf_counter() - t0)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000, help="spans to generate")
    parser.add_argument("--repeats", type=int, default=3, help="runs per contender (best kept)")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target says
    t0 = time.perf_counter()
    body = generate_body(args.spans)
    print(
        f"generated {args.spans:,} spans, {len(body) / 1e6:.0f} MB of api_v3 JSON "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    if not NATIVE_SCANNER:
        print("the native scanner sloctl.sources._otlpscan is not built: run `make test` first")
        return 1
    ours_s, ours = timed(sloctl_stats, body, args.repeats)
    fall_s, fall = timed(fallback_stats, body, args.repeats)
    base_s, base = timed(baseline_stats, body, args.repeats)
    same = all(_agree(result, base) for result in (ours, fall))
    ours_rate, fall_rate, base_rate = (args.spans / s for s in (ours_s, fall_s, base_s))
    print(f"sloctl   (native scanner + numpy): {ours_s:6.3f} s  {ours_rate:12,.0f} spans/s")
    print(f"fallback (msgspec + numpy)       : {fall_s:6.3f} s  {fall_rate:12,.0f} spans/s")
    print(f"baseline (json + Python loop)    : {base_s:6.3f} s  {base_rate:12,.0f} spans/s")
    print(
        f"ratio sloctl/baseline: {ours_rate / base_rate:.1f}x "
        f"(fallback/baseline {fall_rate / base_rate:.1f}x); results agree: {same}"
    )
    target_met = ours_rate >= TARGET_SPANS_PER_SECOND
    print(f"target {TARGET_SPANS_PER_SECOND:,} spans/s: {'met' if target_met else 'MISSED'}")
    print(f"machine speed: 10M empty Python loop iterations in {_calibration():.2f} s")
    return 0 if same else 1


def _agree(a: dict[str, tuple[int, int, float]], b: dict[str, tuple[int, int, float]]) -> bool:
    return a.keys() == b.keys() and all(
        a[s][:2] == b[s][:2] and math.isclose(a[s][2], b[s][2]) for s in a
    )


def _calibration() -> float:
    """Seconds for 10 M empty loop iterations: compare machines before comparing rates."""
    t0 = time.perf_counter()
    for _ in range(10_000_000):
        pass
    return time.perf_counter() - t0


if __name__ == "__main__":
    sys.exit(main())
