"""A small FastAPI service instrumented exactly like a team's real one (run it as a process).

Official packages only: ``FastAPIInstrumentor`` (opentelemetry-instrumentation-fastapi) records
the HTTP server histogram, an SDK ``MeterProvider`` with ``PrometheusMetricReader``
(opentelemetry-exporter-prometheus) turns it into Prometheus metrics, and prometheus_client serves
them on a second loopback port (``--metrics-port``), so scrapes never show up as HTTP requests.

The semantic-convention mode comes from ``OTEL_SEMCONV_STABILITY_OPT_IN`` in the environment
(unset: the old ``http.server.duration`` in ms; ``http``: ``http.server.request.duration`` in s;
``http/dup``: both), which the instrumentation reads when it is imported and instrumented.

Routes: ``GET /ok`` (200 at once), ``GET /fail`` (500 at once), ``GET /slow?ms=N`` (200 after
``N`` ms, asynchronously), ``GET /healthz`` (excluded from the metrics; readiness probe).

    python tests/support/otel/app.py --port 8001 --metrics-port 8002 --service-name checkout \
        [--service-namespace shop] [--view-seconds 0.1,0.3,1] [--view-milliseconds 100,300,1000] \
        [--resource-label service.name ...]

Started by :class:`tests.support.otel.service.OtelApp`; not imported by the test process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Sequence

NEW_INSTRUMENT = "http.server.request.duration"  # unit s
OLD_INSTRUMENT = "http.server.duration"  # unit ms


def bounds(text: str) -> tuple[float | int, ...]:
    """``"0,5,250.0"`` -> ``(0, 5, 250.0)``: each bound keeps its notation, because the exporter
    writes ``le`` as ``str(bound)`` (``300`` gives ``le="300"``, ``300.0`` gives ``le="300.0"``)."""
    parsed: list[float | int] = []
    for token in text.split(","):
        token = token.strip()
        parsed.append(int(token) if token.lstrip("-").isdigit() else float(token))
    return tuple(parsed)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True, help="the app's port on 127.0.0.1")
    parser.add_argument("--metrics-port", type=int, required=True, help="/metrics on 127.0.0.1")
    parser.add_argument("--service-name", required=True, help="Resource service.name")
    parser.add_argument("--service-namespace", default=None, help="Resource service.namespace")
    parser.add_argument(
        "--view-seconds",
        type=bounds,
        default=None,
        metavar="B1,B2,...",
        help=f"an SDK View with these explicit buckets on {NEW_INSTRUMENT} (s)",
    )
    parser.add_argument(
        "--view-milliseconds",
        type=bounds,
        default=None,
        metavar="B1,B2,...",
        help=f"an SDK View with these explicit buckets on {OLD_INSTRUMENT} (ms)",
    )
    parser.add_argument(
        "--resource-label",
        action="append",
        default=[],
        metavar="KEY",
        help="copy this resource attribute onto every series (resource_attribute_filter)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    # Imports after argument parsing: the instrumentation reads OTEL_SEMCONV_STABILITY_OPT_IN.
    import uvicorn
    from fastapi import FastAPI, Response
    from opentelemetry import metrics
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
    from opentelemetry.sdk.resources import Resource
    from prometheus_client import start_http_server

    attributes: dict[str, str] = {"service.name": args.service_name}
    if args.service_namespace:
        attributes["service.namespace"] = args.service_namespace
    resource = Resource.create(attributes)
    copied = frozenset(args.resource_label)
    reader = PrometheusMetricReader(
        resource_attribute_filter=(lambda key: key in copied) if copied else None
    )
    views = [
        View(instrument_name=name, aggregation=ExplicitBucketHistogramAggregation(chosen))
        for name, chosen in (
            (NEW_INSTRUMENT, args.view_seconds),
            (OLD_INSTRUMENT, args.view_milliseconds),
        )
        if chosen is not None
    ]
    provider = MeterProvider(resource=resource, metric_readers=[reader], views=views)
    metrics.set_meter_provider(provider)

    app = FastAPI()

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/fail")
    async def fail() -> Response:
        return Response(content='{"status":"fail"}', status_code=500, media_type="application/json")

    @app.get("/slow")
    async def slow(ms: int = 0) -> dict[str, int]:
        await asyncio.sleep(ms / 1000)
        return {"slept_ms": ms}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "semconv": os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "")}

    FastAPIInstrumentor.instrument_app(app, meter_provider=provider, excluded_urls="healthz")
    start_http_server(args.metrics_port, addr="127.0.0.1")
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)
    provider.shutdown()


if __name__ == "__main__":
    main()
