"""Sustained Alertmanager webhook throughput into sloctl's receiver with the SQLite store.

The receiver (``HttpServer``: FastAPI + uvicorn, one thread) runs in this process with a fresh
temporary SQLite store per mode; client PROCESSES (httpx, keep-alive) send version-4 bodies of
``--alerts`` alerts each, every alert with a unique fingerprint, ``--requests`` bodies in all.
Modes, same bodies, same run:

- ``receiver``: ``POST /api/v1/alertmanager`` (validate, one transaction per body);
- ``per-alert`` (baseline): validate, then one transaction per alert (the naive receiver);
- ``no-op`` (ceiling): validate only, store nothing (HTTP + parsing cost).

Printed per mode: alerts/s (all alerts / wall time from the first send to the last answer),
request latency p50/p99, alerts stored afterwards (must equal alerts sent) and the ratios against
the receiver. Targets: receiver >= 2,000 alerts/s with a p99 latency under 500 ms.

    .venv/bin/python bench/webhook.py                       # 200 bodies x 50 alerts, 4 clients
    .venv/bin/python bench/webhook.py --requests 400 --clients 2
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sloctl.runtime.http import WEBHOOK_PATH, HttpServer, create_app
from sloctl.runtime.receiver import parse_webhook
from sloctl.settings import Settings
from sloctl.store import Store
from sloctl.store.incidents import Notification

TOKEN = "bench-token"
TARGET_ALERTS_PER_SECOND = 2000
TARGET_P99_MS = 500
MODES = {"receiver": WEBHOOK_PATH, "per-alert": "/bench/per-alert", "no-op": "/bench/noop"}
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def body(request: int, alerts: int) -> bytes:
    """A version-4 firing body; fingerprints are unique across the whole run."""
    items = []
    for i in range(alerts):
        starts = (T0 + timedelta(milliseconds=request * alerts + i)).isoformat()
        items.append(
            {
                "status": "firing",
                "labels": {
                    "alertname": "BenchAlert",
                    "service": f"svc-{request % 20}",
                    "severity": "page",
                    "instance": f"i{i}",
                },
                "annotations": {"summary": f"bench alert {request}/{i}"},
                "startsAt": starts.replace("+00:00", "Z"),
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://127.0.0.1:9090/graph?g0.expr=up\u0026g0.tab=1",
                "fingerprint": f"{request:08x}{i:08x}",
            }
        )
    return json.dumps(
        {
            "receiver": "sloctl",
            "status": "firing",
            "alerts": items,
            "groupLabels": {"alertname": "BenchAlert"},
            "commonLabels": {"alertname": "BenchAlert"},
            "commonAnnotations": {},
            "externalURL": "http://127.0.0.1:9093",
            "version": "4",
            "groupKey": f'{{}}:{{alertname="BenchAlert", request="{request}"}}',
            "truncatedAlerts": 0,
        },
        separators=(",", ":"),
    ).encode()


def client(
    base: str, path: str, requests: list[int], alerts: int, barrier: Any, out: Any
) -> None:  # runs in a child process
    bodies = [body(r, alerts) for r in requests]
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    latencies, failures = [], 0
    with httpx.Client(timeout=60.0) as http:
        http.get(base + "/healthz")  # open the keep-alive connection
        barrier.wait()
        start = time.monotonic()
        for data in bodies:
            t = time.monotonic()
            answer = http.post(base + path, content=data, headers=headers)
            latencies.append(time.monotonic() - t)
            failures += answer.status_code != 200
        out.put((start, time.monotonic(), latencies, failures))


def bench_app(settings: Settings, store: Store) -> FastAPI:
    """The real app plus the two baseline endpoints."""
    app = create_app(settings, store)
    log = store.alerts

    def record_each(notification: Notification) -> None:
        for alert in notification.alerts:
            single = Notification(
                notification.receiver, notification.status, notification.group_key, [alert]
            )
            log.record(single, datetime.now(UTC))

    @app.post(MODES["per-alert"])
    async def per_alert(request: Request) -> Response:
        notification = parse_webhook(await request.body())
        await run_in_threadpool(record_each, notification)
        return JSONResponse({"status": "stored"})

    @app.post(MODES["no-op"])
    async def noop(request: Request) -> Response:
        parse_webhook(await request.body())
        return JSONResponse({"status": "ignored"})

    return app


@dataclass
class Result:
    mode: str
    alerts: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failures: int
    stored: int

    @property
    def rate(self) -> float:
        return self.alerts / self.seconds


def run_mode(mode: str, args: argparse.Namespace, folder: Path) -> Result:
    url = f"sqlite:///{folder / f'{mode}.db'}"
    settings = Settings.model_validate(
        {"store_url": url, "receiver": {"port": 0, "token": TOKEN, "max_body_bytes": 16 << 20}}
    )
    ctx = mp.get_context("spawn")
    with Store(url) as store:
        server = HttpServer(settings, store, app=bench_app(settings, store)).start()
        try:
            barrier, out = ctx.Barrier(args.clients + 1), ctx.Queue()
            shares = [list(range(c, args.requests, args.clients)) for c in range(args.clients)]
            procs = [
                ctx.Process(
                    target=client, args=(server.url, MODES[mode], s, args.alerts, barrier, out)
                )
                for s in shares
            ]
            for p in procs:
                p.start()
            barrier.wait()
            results = [out.get(timeout=600) for _ in procs]
            for p in procs:
                p.join()
        finally:
            server.stop()
        stored = store.alerts.count()
    starts, ends, latencies, failures = zip(*results, strict=True)
    flat = sorted(x for chunk in latencies for x in chunk)
    return Result(
        mode=mode,
        alerts=args.requests * args.alerts,
        seconds=max(ends) - min(starts),
        p50_ms=statistics.median(flat) * 1000,
        p99_ms=flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000,
        failures=sum(failures),
        stored=stored,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="webhook bodies per mode")
    parser.add_argument("--alerts", type=int, default=50, help="alerts per body")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sloctl-bench-webhook-") as tmp:
        results = [run_mode(mode, args, Path(tmp)) for mode in args.modes]
    print(
        f"{args.requests} bodies x {args.alerts} alerts, {args.clients} client processes, "
        "SQLite store (WAL)\n"
    )
    print(
        f"{'mode':<10} {'alerts/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'sent':>7} {'stored':>7} "
        f"{'non-200':>7}"
    )
    for r in results:
        stored = r.stored if r.mode != "no-op" else 0
        print(
            f"{r.mode:<10} {r.rate:>9.0f} {r.p50_ms:>8.1f} {r.p99_ms:>8.1f} {r.alerts:>7} "
            f"{stored:>7} {r.failures:>7}"
        )
    by_mode = {r.mode: r for r in results}
    ok = True
    if "receiver" in by_mode:
        receiver = by_mode["receiver"]
        for other in ("per-alert", "no-op"):
            if other in by_mode:
                print(f"receiver / {other}: {receiver.rate / by_mode[other].rate:.2f}x alerts/s")
        complete = receiver.stored == receiver.alerts and receiver.failures == 0
        fast = receiver.rate >= TARGET_ALERTS_PER_SECOND
        prompt = receiver.p99_ms < TARGET_P99_MS
        print(
            f"stored == sent: {'PASS' if complete else 'FAIL'}; "
            f">= {TARGET_ALERTS_PER_SECOND} alerts/s: {'PASS' if fast else 'FAIL'}; "
            f"p99 < {TARGET_P99_MS} ms: {'PASS' if prompt else 'FAIL'}"
        )
        ok = complete and fast and prompt
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
