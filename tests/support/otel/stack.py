"""Instrumented apps plus the Prometheus that scrapes them, started and stopped together."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.support.otel.load import LoadDriver
from tests.support.otel.prometheus import PromApi, ScrapingPrometheus
from tests.support.otel.service import AppSpec, OtelApp

# One request per route before Prometheus starts: every series then exists from the first scrape
# on, so increase() over a window that starts at that scrape counts every later request.
WARM_UP_PATHS = ("/ok", "/fail", "/slow?ms=0")


@dataclass(frozen=True)
class StackConfig:
    """What to run. ``scrape_interval`` 15s is the common production value; use less only with
    a documented reason (e.g. a test that needs many scrapes), since it changes extrapolation."""

    apps: tuple[AppSpec, ...]
    scrape_interval: str = "15s"
    evaluation_interval: str = "15s"
    rule_files: tuple[Path, ...] = ()
    warm_up: bool = True
    wait_first_scrape: bool = True

    def __post_init__(self) -> None:
        names = [a.service_name for a in self.apps]
        if len(set(names)) != len(names):
            raise ValueError(f"service names must be unique: {names}")


class OtelStack:
    """Start the apps (in parallel), warm them up, start Prometheus, wait for the first scrape.

    ``apps[name]`` are the :class:`OtelApp`, ``prometheus`` the server, ``api`` its client,
    ``first_scrape[name]`` the Unix time of each target's first scrape (the baseline).
    """

    def __init__(self, config: StackConfig, work_dir: Path) -> None:
        self.config = config
        self.work_dir = Path(work_dir)
        self.apps = {spec.service_name: OtelApp(spec, self.work_dir) for spec in config.apps}
        self.prometheus: ScrapingPrometheus | None = None
        self.first_scrape: dict[str, float] = {}

    @property
    def api(self) -> PromApi:
        assert self.prometheus is not None, "start() first"
        return PromApi(self.prometheus.url)

    def start(self, timeout: float = 60.0) -> Self:
        try:
            for app in self.apps.values():
                app.launch()
            for app in self.apps.values():
                app.wait_ready()
            if self.config.warm_up:
                for app in self.apps.values():
                    for path in WARM_UP_PATHS:
                        app.get(path)
            jobs: dict[str, list[str]] = {}
            for app in self.apps.values():
                jobs.setdefault(app.spec.job, []).append(app.target)
            self.prometheus = ScrapingPrometheus(
                self.work_dir / "prometheus",
                jobs,
                scrape_interval=self.config.scrape_interval,
                evaluation_interval=self.config.evaluation_interval,
                rule_files=self.config.rule_files,
            )
            self.prometheus.start()
            if self.config.wait_first_scrape:
                self.first_scrape = self.wait_for_scrapes(after=0.0, timeout=timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def app(self, name: str) -> OtelApp:
        return self.apps[name]

    def driver(self, name: str, workers: int = 12) -> LoadDriver:
        return LoadDriver(self.apps[name].url, workers=workers)

    def wait_for_scrapes(
        self, after: float, names: Iterable[str] | None = None, *, timeout: float = 40.0
    ) -> dict[str, float]:
        """Wait until each app (default: all) was scraped at or after ``after`` (Unix time);
        the time of that scrape per app. One scrape interval is the longest wait."""
        deadline = time.monotonic() + timeout
        return {
            name: self.api.wait_for_scrape(
                self.apps[name].target, after, timeout=max(0.0, deadline - time.monotonic())
            )
            for name in (names if names is not None else self.apps)
        }

    def last_scrapes(self, names: Iterable[str] | None = None) -> dict[str, float | None]:
        """The Unix time of each app's latest scrape (None before the first)."""
        return {
            name: self.api.last_scrape(self.apps[name].target)
            for name in (names if names is not None else self.apps)
        }

    def stop(self) -> None:
        with contextlib.ExitStack() as stack:  # stop everything even if one stop fails
            if self.prometheus is not None:
                stack.callback(self.prometheus.stop)
            for app in self.apps.values():
                stack.callback(app.stop)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
