"""Run a real VictoriaMetrics (single node, Debian's ``victoria-metrics``) on 127.0.0.1.

For tests and benchmarks, beside :mod:`sloctl.demo.prometheus_server`::

    with VictoriaMetricsServer(tmp_path / "vm") as vm:
        vm.import_scenario(scenario, sampling.times(scenario))
        vm.wait_visible('count(http_server_request_duration_seconds_count)', expect=10)

History goes in through ``POST /api/v1/import/prometheus`` (Prometheus text format with
**millisecond** timestamps, streamed), is made searchable with ``/internal/force_flush``, and a
caller polls a query until the data is visible instead of sleeping. ``stop()`` ends the process
(SIGTERM, then SIGKILL); the data folder belongs to the caller.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import numpy as np

from sloctl.demo.process import LoopbackProcess
from sloctl.demo.prometheus_server import ToolNotInstalled
from sloctl.demo.scenario import FloatArray, Scenario, SeriesKey
from sloctl.errors import BackendError

INSTALL_HINT = (
    "install Debian's VictoriaMetrics: `sudo apt-get update && sudo apt-get install -y "
    "victoria-metrics` (`make test` does it)"
)
BINARY = "victoria-metrics"


def find_binary() -> str:
    path = shutil.which(BINARY)
    if path is None:
        raise ToolNotInstalled(f"`{BINARY}` was not found on PATH: {INSTALL_HINT}")
    return path


@dataclass(frozen=True)
class ImportStats:
    series: int
    samples: int
    bytes: int
    seconds: float


def _format_values(key: SeriesKey, values: FloatArray) -> list[str]:
    """Counts as integers, ``_sum`` and CPU seconds as the shortest exact float (as promtool's
    OpenMetrics file has them)."""
    if key.metric.endswith(("_bucket", "_count")):
        return [str(v) for v in values.astype(np.int64).tolist()]
    return [repr(v) for v in values.tolist()]


def scenario_text(
    scenario: Scenario, times: FloatArray, services: Sequence[str] | None = None
) -> Iterator[str]:
    """Prometheus text format of ``services`` (default all) at ``times``, one chunk per series,
    timestamps in milliseconds (what ``/api/v1/import/prometheus`` reads)."""
    if np.any(np.diff(times) <= 0) or np.any(times != np.floor(times)):
        raise ValueError("sample times must be strictly increasing whole seconds")
    stamps = [f" {t * 1000}\n" for t in times.astype(np.int64).tolist()]
    for service in services if services is not None else scenario.service_names:
        for key, series in scenario.values(service, times).items():
            prefix = key.render() + " "
            yield "".join(
                prefix + v + s for v, s in zip(_format_values(key, series), stamps, strict=True)
            )


class VictoriaMetricsServer(LoopbackProcess):
    """A ``victoria-metrics`` process on a loopback port. Use as a context manager."""

    name = "victoria-metrics"
    ready_path = "/health"

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        self.data_dir = Path(data_dir)
        self._fixed_port = port
        self.port = port or 0
        self.extra_args = tuple(extra_args)
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-victoria-metrics.log"

    def start(self, timeout: float = 30.0) -> Self:
        """Start it and wait until ``/health`` answers; raises BackendUnreachable with its log."""
        if self.running:
            return self
        binary = find_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)

        def args() -> list[str]:
            return [
                binary,
                f"-storageDataPath={self.data_dir}",
                f"-httpListenAddr=127.0.0.1:{self.port}",
                "-retentionPeriod=100y",
                "-search.disableCache",  # history is imported after start: never serve stale
                "-loggerLevel=WARN",
                *self.extra_args,
            ]

        self._launch_on_a_port(self._fixed_port, args, timeout)
        return self

    def import_text(self, chunks: Iterable[str], timeout: float = 600.0) -> int:
        """POST Prometheus text (millisecond timestamps) to ``/api/v1/import/prometheus``,
        streamed (chunked); returns the bytes sent. Raises BackendError on a refusal."""
        sent = 0

        def body() -> Iterator[bytes]:
            nonlocal sent
            for chunk in chunks:
                data = chunk.encode("ascii")
                sent += len(data)
                yield data

        req = urllib.request.Request(
            f"{self.url}/api/v1/import/prometheus", data=body(), method="POST",
            headers={"Content-Type": "text/plain"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                resp.read()
        except urllib.error.HTTPError as exc:
            raise BackendError(self.name, f"import refused ({exc.code}): "
                               f"{exc.read()[:2000].decode(errors='replace')}") from exc
        return sent

    def import_scenario(
        self, scenario: Scenario, times: FloatArray, *, batch_services: int = 200
    ) -> ImportStats:
        """Every series of ``scenario`` at ``times``, ``batch_services`` services a request,
        then flushed (``force_flush``)."""
        began = time.perf_counter()
        names = scenario.service_names
        sent = 0
        for i in range(0, len(names), batch_services):
            sent += self.import_text(scenario_text(scenario, times, names[i:i + batch_services]))
        self.force_flush()
        series = len(scenario.series())
        return ImportStats(series, series * int(times.size), sent, time.perf_counter() - began)

    def force_flush(self) -> None:
        """Make recently imported samples searchable (``/internal/force_flush``)."""
        with urllib.request.urlopen(f"{self.url}/internal/force_flush", timeout=60.0) as resp:
            resp.read()

    # --- reading -------------------------------------------------------------------------
    def query(self, text: str, at: float | None = None) -> list[dict[str, object]]:
        """``/api/v1/query`` (POST); the result vector."""
        params = {"query": text}
        if at is not None:
            params["time"] = repr(float(at))
        data = urllib.parse.urlencode(params).encode()
        try:
            with urllib.request.urlopen(f"{self.url}/api/v1/query", data=data,
                                        timeout=300.0) as resp:
                doc = json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise BackendError(self.name, f"query {text!r} failed ({exc.code}): "
                               f"{exc.read()[:2000].decode(errors='replace')}") from exc
        result: list[dict[str, object]] = doc["data"]["result"]
        return result

    def wait_visible(
        self, text: str, expect: float, at: float | None = None, timeout: float = 60.0
    ) -> None:
        """Poll ``text`` (one scalar-like series) until it equals ``expect``: the imported data is
        searchable. Raises BackendError with the last answer after ``timeout``."""
        deadline = time.monotonic() + timeout
        got: object = None
        while time.monotonic() < deadline:
            rows = self.query(text, at)
            got = [r["value"] for r in rows]
            if len(rows) == 1 and float(rows[0]["value"][1]) == expect:  # type: ignore[index]
                return
            self.force_flush()
            time.sleep(0.1)
        raise BackendError(self.name, f"{text!r} never reached {expect} in {timeout:.0f}s "
                           f"(last {got}); log {self.log_path}")

    def request_count(self, path: str = "/api/v1/query") -> int:
        """Queries served on ``path`` so far (its own ``vm_http_requests_total``)."""
        pattern = re.compile(r'^vm_http_requests_total\{path="' + re.escape(path) + r'"\} (\d+)')
        return sum(int(m[1]) for line in self.metrics_text().splitlines()
                   if (m := pattern.match(line)))

    def cpu_seconds(self) -> float:
        """``process_cpu_seconds_total`` of the server itself."""
        for line in self.metrics_text().splitlines():
            if line.startswith("process_cpu_seconds_total "):
                return float(line.split()[1])
        raise BackendError(self.name, f"{self.url}/metrics has no process_cpu_seconds_total")

    def metrics_text(self) -> str:
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10.0) as resp:
            text: str = resp.read().decode()
            return text
