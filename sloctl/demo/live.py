"""Serve a scenario's counters at wall-clock time on ``/metrics`` (Prometheus text format 0.0.4).

The values are the same pure functions of time that the backfill wrote, so a Prometheus scraping
this exporter continues the backfilled series seamlessly (``PrometheusServer`` drops the
``job``/``instance`` target labels). Each sample carries the timestamp (ms) it was computed for,
so every scraped sample equals ``scenario.counter(key, timestamp)`` exactly.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import numpy as np

from sloctl.demo.scenario import CPU_COUNTER, HISTOGRAM, Scenario

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def render_metrics(scenario: Scenario, t_ms: int, *, timestamps: bool = True) -> str:
    """The exposition of every series at ``t_ms`` (unix milliseconds)."""
    at = np.array([t_ms / 1000.0])
    suffix = f" {t_ms}\n" if timestamps else "\n"
    hist = [f"# HELP {HISTOGRAM} Duration of HTTP server requests.\n# TYPE {HISTOGRAM} histogram\n"]
    cpu = [
        f"# HELP {CPU_COUNTER} Total user and system CPU time spent in seconds.\n"
        f"# TYPE {CPU_COUNTER} counter\n"
    ]
    for service in scenario.service_names:
        values = scenario.values(service, at)
        for key in scenario.series_of(service):
            v = float(values[key][0])
            text = str(int(v)) if key.metric.endswith(("_bucket", "_count")) else repr(v)
            (cpu if key.metric == CPU_COUNTER else hist).append(f"{key.render()} {text}{suffix}")
    return "".join(hist + cpu)


class LiveExporter:
    """A threaded HTTP server on 127.0.0.1 serving ``/metrics`` for ``scenario``."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        port: int = 0,
        timestamps: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.scenario = scenario
        self.timestamps = timestamps
        self.clock = clock
        self._requested_port = port
        self.port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def target(self) -> str:
        """``host:port`` for a Prometheus scrape config."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """Base URL, ``http://127.0.0.1:PORT``."""
        return f"http://{self.target}"

    @property
    def metrics_url(self) -> str:
        return f"{self.url}/metrics"

    def render(self) -> str:
        return render_metrics(self.scenario, int(self.clock() * 1000), timestamps=self.timestamps)

    def start(self) -> LiveExporter:
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404, "only /metrics is served")
                    return
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # keep test and demo output quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", self._requested_port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="sloctl-live-exporter", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def __enter__(self) -> LiveExporter:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
