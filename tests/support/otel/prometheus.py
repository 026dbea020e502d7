"""A real Prometheus (Debian's 2.42) scraping the OTel apps, and a small client for its HTTP API.

``ScrapingPrometheus`` is :class:`sloctl.demo.prometheus_server.PrometheusServer` (temp TSDB,
retention 90d, loopback port, ``/-/ready`` poll, clean stop) with plain scrape jobs: job names
of our choosing, ``honor_labels`` left at its default (false) and no relabelling, so series carry
``job`` and ``instance`` exactly as in a team's Prometheus. ``rule_files`` and
``evaluation_interval`` pass through.

``PromApi`` wraps /api/v1/{query,series,labels,label/<name>/values,metadata,targets} and
/api/v1/status/config;
``wait_for`` polls a PromQL expression until a predicate holds, with a bounded timeout.
``extrapolated_increase`` is Prometheus 2.x's ``increase()`` over given samples, so a test can
state the exact value, and the band, that ``increase()`` must give for a known count.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from sloctl.demo.prometheus_server import PrometheusServer

Sample = tuple[float, float]  # (unix seconds, value)


class ScrapingPrometheus(PrometheusServer):
    """Prometheus scraping ``jobs`` ({job name: [host:port, ...]}) every ``scrape_interval``."""

    def __init__(
        self,
        data_dir: Path,
        jobs: Mapping[str, Sequence[str]],
        *,
        scrape_interval: str = "15s",
        evaluation_interval: str = "15s",
        rule_files: Sequence[Path] = (),
        query_log: Path | None = None,
    ) -> None:
        super().__init__(
            data_dir,
            scrape_interval=scrape_interval,
            evaluation_interval=evaluation_interval,
            rule_files=rule_files,
            query_log=query_log,
        )
        self.jobs = {job: tuple(targets) for job, targets in jobs.items()}

    def config(self) -> dict[str, object]:
        cfg = super().config()
        cfg["scrape_configs"] = [
            {
                "job_name": job,
                "scrape_interval": self.scrape_interval,
                "static_configs": [{"targets": list(targets)}],
            }
            for job, targets in self.jobs.items()
        ]
        return cfg


class PromApiError(AssertionError):
    """Prometheus answered something other than ``status: success``."""


@dataclass
class PromApi:
    """The Prometheus HTTP API as plain Python values."""

    url: str
    timeout: float = 10.0

    def _get(self, path: str, params: list[tuple[str, str]]) -> Any:
        answer = httpx.get(f"{self.url}{path}", params=tuple(params), timeout=self.timeout)
        body = answer.json()
        if body.get("status") != "success":
            raise PromApiError(f"{path} {params}: {answer.status_code} {body}")
        return body["data"]

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Instant query: the ``result`` list (vector: ``value``; matrix: ``values``)."""
        params = [("query", expr)]
        if at is not None:
            params.append(("time", f"{at:.3f}"))
        data = self._get("/api/v1/query", params)
        if data["resultType"] == "scalar":
            return [{"metric": {}, "value": data["result"]}]
        result: list[dict[str, Any]] = data["result"]
        return result

    def value(self, expr: str, at: float | None = None) -> float | None:
        """The single value of a one-element vector or scalar; None when empty."""
        result = self.query(expr, at)
        if not result:
            return None
        if len(result) > 1:
            raise PromApiError(f"{expr}: {len(result)} series, expected one")
        return float(result[0]["value"][1])

    def samples(
        self, selector: str, at: float, window: str
    ) -> dict[frozenset[tuple[str, str]], list[Sample]]:
        """Raw samples of ``selector[window]`` at ``at``, by label set."""
        out: dict[frozenset[tuple[str, str]], list[Sample]] = {}
        for series in self.query(f"{selector}[{window}]", at):
            out[frozenset(series["metric"].items())] = [
                (float(t), float(v)) for t, v in series["values"]
            ]
        return out

    def series(self, match: str, start: float | None = None) -> list[dict[str, str]]:
        params = [("match[]", match)]
        if start is not None:
            params.append(("start", f"{start:.3f}"))
        result: list[dict[str, str]] = self._get("/api/v1/series", params)
        return result

    def labels(self, match: str | None = None) -> list[str]:
        params = [("match[]", match)] if match else []
        result: list[str] = self._get("/api/v1/labels", params)
        return result

    def label_values(self, name: str, match: str | None = None) -> list[str]:
        params = [("match[]", match)] if match else []
        result: list[str] = self._get(f"/api/v1/label/{name}/values", params)
        return result

    def metadata(self, metric: str | None = None) -> dict[str, list[dict[str, str]]]:
        params = [("metric", metric)] if metric else []
        result: dict[str, list[dict[str, str]]] = self._get("/api/v1/metadata", params)
        return result

    def config(self) -> dict[str, Any]:
        """The configuration Prometheus runs with, defaults filled in (/api/v1/status/config)."""
        loaded: dict[str, Any] = yaml.safe_load(self._get("/api/v1/status/config", [])["yaml"])
        return loaded

    def targets(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._get("/api/v1/targets", [("state", "active")])[
            "activeTargets"
        ]
        return result

    def wait_for(
        self,
        expr: str,
        until: Callable[[list[dict[str, Any]]], bool] = bool,
        *,
        timeout: float = 40.0,
        interval: float = 0.25,
        at: Callable[[], float | None] = lambda: None,
    ) -> list[dict[str, Any]]:
        """Poll ``expr`` until ``until(result)`` (default: non-empty); the last result.

        ``at`` gives the evaluation time of each poll (default: now).
        """
        deadline = time.monotonic() + timeout
        last: list[dict[str, Any]] = []
        while True:
            last = self.query(expr, at())
            if until(last):
                return last
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expr}: condition not met after {timeout:.0f} s; last {last}")
            time.sleep(interval)

    def wait_for_value(
        self, expr: str, until: Callable[[float], bool], *, timeout: float = 40.0
    ) -> float:
        """Poll a one-element expression until ``until(value)``; the value."""
        result = self.wait_for(
            expr,
            lambda r: len(r) == 1 and until(float(r[0]["value"][1])),
            timeout=timeout,
        )
        return float(result[0]["value"][1])

    def last_scrape(self, instance: str) -> float | None:
        """Unix time of the latest scrape of ``instance`` (the ``up`` sample's timestamp)."""
        return self.value(f'timestamp(up{{instance="{instance}"}})')

    def wait_for_scrape(self, instance: str, after: float, *, timeout: float = 40.0) -> float:
        """Wait until ``instance`` was scraped successfully at or after ``after``; that time."""
        # timestamp() gives the sample's time only when applied to a selector directly.
        up = f'up{{instance="{instance}"}}'
        return self.wait_for_value(
            f"(timestamp({up}) >= {after:.3f}) and on (instance) ({up} == 1)",
            lambda ts: ts >= after,
            timeout=timeout,
        )


def raw_delta(samples: Sequence[Sample]) -> float:
    """Last minus first sample, plus the value before each counter reset."""
    delta = samples[-1][1] - samples[0][1]
    previous = 0.0
    for _, v in samples:
        if v < previous:
            delta += previous
        previous = v
    return delta


def _ms(t: float) -> int:
    return round(t * 1000)


def extrapolated_increase(samples: Sequence[Sample], range_start: float, range_end: float) -> float:
    """``increase()`` of Prometheus 2.x (``extrapolatedRate``) over the samples of one range.

    The raw delta (with counter resets) is scaled by ``extrapolateToInterval / sampledInterval``:
    each edge extends to the range boundary when the gap is below 1.1 x the average spacing, else
    by half the average spacing; the start never reaches back past the counter's zero point.
    The factor therefore lies in ``[1, (range_end - range_start) / sampledInterval]``.
    Times are in ms internally, as in Prometheus, so the result matches to the last bits.
    """
    if len(samples) < 2:
        raise ValueError("increase() needs at least two samples")
    delta = raw_delta(samples)
    t_first, v_first = _ms(samples[0][0]), samples[0][1]
    t_last = _ms(samples[-1][0])
    to_start = (t_first - _ms(range_start)) / 1000
    to_end = (_ms(range_end) - t_last) / 1000
    sampled = (t_last - t_first) / 1000
    average = sampled / (len(samples) - 1)
    if delta > 0 and v_first >= 0:
        to_zero = sampled * (v_first / delta)
        to_start = min(to_start, to_zero)
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    return delta * (interval / sampled)
