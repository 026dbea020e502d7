"""Run the OpenTelemetry test app (``app.py``) as a separate process on 127.0.0.1.

The OTel globals (meter provider, semconv mode) live only in that process. ``OtelApp`` picks two
free ports (the app, and ``/metrics`` served by prometheus_client), waits for ``/healthz`` and
``/metrics``, and stops the process group on exit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import free_port, http_get, stop_group, wait_until

APP = Path(__file__).resolve().with_name("app.py")

Semconv = Literal["old", "http", "http/dup"]

# The instrumentation's advised buckets for http.server.request.duration (written as the
# instrumentation writes them: 1, 5, 10 are ints, so le="1") plus 0.3 s.
VIEW_SECONDS: tuple[str, ...] = (
    "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.3", "0.5", "0.75",
    "1", "2.5", "5", "7.5", "10",
)  # fmt: skip
# The SDK's default buckets for http.server.duration (floats: le="250.0") plus 300 ms.
VIEW_MILLISECONDS: tuple[str, ...] = (
    "0.0", "5.0", "10.0", "25.0", "50.0", "75.0", "100.0", "250.0", "300.0", "500.0", "750.0",
    "1000.0", "2500.0", "5000.0", "7500.0", "10000.0",
)  # fmt: skip
# The same in ints, as a team would often type them: le="300", le="250".
VIEW_MILLISECONDS_INT: tuple[str, ...] = tuple(b.removesuffix(".0") for b in VIEW_MILLISECONDS)


@dataclass(frozen=True)
class AppSpec:
    """One instrumented service.

    ``semconv``: ``"old"`` (OTEL_SEMCONV_STABILITY_OPT_IN unset:
    ``http_server_duration_milliseconds``), ``"http"`` (``http_server_request_duration_seconds``)
    or ``"http/dup"`` (both).
    ``view``: add an SDK View with explicit buckets including 0.3 s / 300 ms on the instrument(s)
    of the mode (``view_seconds`` / ``view_milliseconds``, each bound written as ``le`` verbatim).
    ``resource_labels``: resource attributes copied onto every series (e.g. ``("service.name",)``).
    ``job``: the Prometheus scrape job this app's target belongs to.
    """

    service_name: str
    semconv: Semconv = "http"
    view: bool = False
    service_namespace: str | None = None
    job: str = "otel-app"
    view_seconds: tuple[str, ...] = VIEW_SECONDS
    view_milliseconds: tuple[str, ...] = VIEW_MILLISECONDS
    resource_labels: tuple[str, ...] = ()

    @property
    def emits_seconds(self) -> bool:
        return self.semconv in ("http", "http/dup")

    @property
    def emits_milliseconds(self) -> bool:
        return self.semconv in ("old", "http/dup")

    def args(self) -> list[str]:
        args = ["--service-name", self.service_name]
        if self.service_namespace:
            args += ["--service-namespace", self.service_namespace]
        if self.view and self.emits_seconds:
            args += ["--view-seconds", ",".join(self.view_seconds)]
        if self.view and self.emits_milliseconds:
            args += ["--view-milliseconds", ",".join(self.view_milliseconds)]
        for key in self.resource_labels:
            args += ["--resource-label", key]
        return args

    def env(self) -> dict[str, str]:
        """The test process's environment without any OTEL_* variable, plus the semconv mode."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        if self.semconv != "old":
            env["OTEL_SEMCONV_STABILITY_OPT_IN"] = self.semconv
        return env


class OtelApp:
    """The app of one :class:`AppSpec` in its own process group. Use as a context manager."""

    def __init__(self, spec: AppSpec, log_dir: Path) -> None:
        self.spec = spec
        self.log_path = Path(log_dir) / f"otel-app-{spec.service_name}.log"
        self.port = 0
        self.metrics_port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def target(self) -> str:
        """``host:port`` of /metrics: the scrape target, hence the ``instance`` label."""
        return f"127.0.0.1:{self.metrics_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{self.target}/metrics"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def launch(self) -> None:
        """Start the process without waiting (see :meth:`wait_ready`)."""
        if self._proc is not None:
            raise RuntimeError(f"{self.spec.service_name} was already started")
        self.port, self.metrics_port = free_port(), free_port()
        args = [
            sys.executable,
            str(APP),
            "--port",
            str(self.port),
            "--metrics-port",
            str(self.metrics_port),
            *self.spec.args(),
        ]
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                args,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.spec.env(),
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 30.0) -> None:
        assert self._proc is not None, "launch() first"
        what = f"otel app {self.spec.service_name} (log {self.log_path})"
        try:
            wait_until(lambda: http_get(f"{self.url}/healthz"), timeout, what, self._proc)
            wait_until(lambda: http_get(self.metrics_url), timeout, what, self._proc)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{self.log_path.read_text(errors='replace')}") from exc

    def start(self, timeout: float = 30.0) -> Self:
        self.launch()
        self.wait_ready(timeout)
        return self

    def get(self, path: str) -> int:
        """One request; its status code (for warm-ups and one-off probes)."""
        return httpx.get(f"{self.url}{path}", timeout=10.0).status_code

    def request_counts(self) -> dict[str, int]:
        """The app's own ``_count`` totals per histogram family, read from /metrics directly
        (no Prometheus): ``{"http_server_request_duration_seconds": 3, ...}``."""
        body = http_get(self.metrics_url)
        if body is None:
            raise RuntimeError(f"{self.metrics_url} did not answer")
        totals: dict[str, int] = {}
        for family in text_string_to_metric_families(body.decode()):
            if family.type != "histogram" or not family.name.startswith("http_server_"):
                continue
            count = sum(s.value for s in family.samples if s.name == f"{family.name}_count")
            totals[family.name] = round(count)
        return totals

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_group(proc)

    def __enter__(self) -> Self:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
