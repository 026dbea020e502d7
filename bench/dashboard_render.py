"""Render time of the Streamlit scorecard page on a month of stored history.

Fills a SQLite store with 30 days of evaluations every 60 s for 20 services x 2 SLOs (43 200
evaluations: 1.7 M SLO rows, 0.9 M signal rows, 120 alerts per evaluation) through
``store.evaluations.save_many`` (bulk, one transaction per batch), or reuses the store cached in
bench/out/ when it was built with the same parameters. Then it times
``AppTest.from_file("dashboard/app.py").run()``:

- cold:     Streamlit caches cleared before each run (store opened, every query run);
- warm:     queries served from ``st.cache_data`` (what a reload within the TTL costs);
- baseline: cold, but history read at full resolution (``HISTORY_POINTS = None``);

median of ``--repeats`` runs each, after one discarded warm-up run (imports, first connection).
It also times the raw store queries with and without downsampling. Target: cold render < 1.5 s.

    .venv/bin/python bench/dashboard_render.py [--repeats 5] [--rebuild] [--days 30]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sloctl.core import alerts as alert_sm  # noqa: E402
from sloctl.core.alerts import AlertStatus  # noqa: E402
from sloctl.core.burn import DEFAULT_BURN_RATE_RULES, BurnRateDecision  # noqa: E402
from sloctl.core.evaluation import Evaluation  # noqa: E402
from sloctl.core.signals import Signal, SignalValue  # noqa: E402
from sloctl.core.slo import SLOStatus  # noqa: E402
from sloctl.core.windows import ALERT_WINDOWS, WindowResult, window_name  # noqa: E402
from sloctl.store import Store, StoreReader  # noqa: E402

OUT = REPO / "bench" / "out"
APP = REPO / "dashboard" / "app.py"
TARGET_SECONDS = 1.5
PERIOD = 30 * 86400
END = datetime(2025, 6, 30, tzinfo=UTC)  # fixed, so a cached store stays valid


@dataclass(frozen=True)
class Params:
    days: int = 30
    step: int = 60
    services: int = 20
    seed: int = 7

    @property
    def steps(self) -> int:
        return self.days * 86400 // self.step


# -- synthetic history ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Series:
    """Per-step error ratios and request rates of every SLO (rows) over the whole history."""

    objectives: list[float]
    ratios: dict[int, np.ndarray]  # window seconds -> (slos, steps) error ratio over the window
    rps: np.ndarray  # (services, steps) requests per second


def synthesize(p: Params) -> Series:
    """Error ratios with diurnal noise and a few incidents, as rolling means per window.

    The history is simulated over one extra period so the 30-day window is always full.
    """
    rng = np.random.default_rng(p.seed)
    n_slos, lead = 2 * p.services, PERIOD // p.step
    total_steps = lead + p.steps
    t = np.arange(total_steps) * p.step
    diurnal = 1 + 0.5 * np.sin(2 * np.pi * t / 86400)
    objectives = [0.999 if i % 2 == 0 else 0.99 for i in range(n_slos)]
    budgets = 1 - np.array(objectives)[:, None]
    base = budgets * rng.uniform(0.2, 0.9, size=(n_slos, 1))
    instant = base * rng.gamma(4.0, 0.25, size=(n_slos, total_steps)) * diurnal
    for slo in range(0, n_slos, 3):  # incidents: 20x the base error ratio for 30-180 minutes
        for start in rng.integers(0, total_steps, size=3):
            instant[slo, start : start + int(rng.integers(30, 180))] *= 20
    csum = np.concatenate([np.zeros((n_slos, 1)), np.cumsum(instant, axis=1)], axis=1)
    ratios = {}
    for window in (*ALERT_WINDOWS, PERIOD):
        n = max(1, window // p.step)
        end = np.arange(lead, total_steps) + 1
        ratios[window] = (csum[:, end] - csum[:, np.maximum(end - n, 0)]) / n
    rps = 50 * rng.uniform(0.5, 2.0, size=(p.services, 1)) * diurnal[None, lead:]
    return Series(objectives, ratios, rps)


def evaluations(p: Params, series: Series) -> Iterator[Evaluation]:
    """The evaluations, oldest first, with alerts run through the real state machine."""
    windows = (*ALERT_WINDOWS, PERIOD)
    start = END - timedelta(seconds=p.step * p.steps)
    states: dict[str, AlertStatus] = {}
    for k in range(p.steps):
        at = start + timedelta(seconds=p.step * (k + 1))
        slos, alerts = [], []
        for i, objective in enumerate(series.objectives):
            service, name = f"svc-{i // 2:02d}", ("availability", "latency")[i % 2]
            eb = 1 - objective
            rate = float(series.rps[i // 2, k])
            results = []
            for w in windows:
                ratio = float(series.ratios[w][i, k])
                total = rate * w
                results.append(
                    WindowResult(w, 1 - ratio, ratio, ratio / eb, total, total * ratio, 1.0)
                )
            burn = {r.window: r.burn_rate or 0.0 for r in results}
            decisions = tuple(
                BurnRateDecision(
                    rule,
                    burn[rule.long_window],
                    burn[rule.short_window],
                    min(burn[rule.long_window], burn[rule.short_window]) > rule.factor,
                )
                for rule in DEFAULT_BURN_RATE_RULES
            )
            period = results[-1]
            remaining = 1 - burn[PERIOD]
            slo_id = f"{service}/{name}"
            slos.append(
                SLOStatus(
                    slo_id=slo_id,
                    service=service,
                    name=name,
                    objective=objective,
                    period=PERIOD,
                    period_elapsed=PERIOD,
                    at=at,
                    sli=period.sli,
                    error_budget=eb,
                    budget_remaining=remaining,
                    budget_total_minutes=eb * PERIOD / 60,
                    budget_remaining_minutes=eb * PERIOD / 60 * remaining,
                    budget_remaining_events=eb * (period.total or 0) - (period.bad or 0),
                    windows=tuple(results),
                    decisions=decisions,
                    exhaustion_at=None,
                    breaching=(period.sli or 0) < objective,
                )
            )
            for severity in ("page", "ticket"):
                ds = [d for d in decisions if d.rule.severity == severity]
                worst = max(ds, key=lambda d: (d.long_burn or 0.0) / d.rule.factor)
                alerts.append(
                    _alert(
                        states,
                        f"burn_rate:{severity}/{slo_id}",
                        service,
                        slo_id,
                        severity,
                        worst.rule.factor,
                        any(d.firing for d in ds),
                        worst.long_burn,
                        at,
                    )
                )
        signals = []
        for s in range(p.services):
            service = f"svc-{s:02d}"
            ratio = float(series.ratios[300][2 * s, k])
            rate = float(series.rps[s, k])
            values = (rate, ratio, 0.04 + ratio, 0.15 + 5 * ratio, 0.3 + 10 * ratio, rate / 100)
            signals += [SignalValue(service, sig, v) for sig, v in zip(Signal, values, strict=True)]
            alerts.append(
                _alert(
                    states,
                    f"default:error_ratio/{service}",
                    service,
                    None,
                    "warning",
                    0.005,
                    ratio > 0.005,
                    ratio,
                    at,
                )
            )
            alerts.append(
                _alert(
                    states,
                    f"default:latency_p95/{service}",
                    service,
                    None,
                    "warning",
                    0.3,
                    values[3] > 0.3,
                    values[3],
                    at,
                )
            )
        yield Evaluation(
            at,
            at,
            at + timedelta(seconds=2),
            tuple(slos),
            tuple(signals),
            tuple(alerts),
            (),
            query_count=80,
        )


def _alert(
    states: dict[str, AlertStatus],
    key: str,
    service: str,
    slo_id: str | None,
    severity: str,
    threshold: float,
    condition: bool,
    value: float | None,
    at: datetime,
) -> AlertStatus:
    labels = {"window": window_name(3600)} if slo_id else {"window": "5m"}
    status = alert_sm.next_state(
        states.get(key),
        key=key,
        rule=key.split("/")[0],
        service=service,
        slo_id=slo_id,
        severity=severity,
        threshold=threshold,
        condition=condition,
        value=value,
        for_seconds=0 if slo_id else 300,
        now=at,
        labels=labels,
    )
    states[key] = status
    return status


def build(p: Params, path: Path, marker: Path) -> None:
    """Write the store (deleting an older one), printing progress."""
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), marker):
        stale.unlink(missing_ok=True)
    print(f"building {path} ({p.steps} evaluations, {2 * p.services} SLOs) ...", flush=True)
    began = time.perf_counter()
    series = synthesize(p)
    batch, done = 500, 0
    with Store(f"sqlite:///{path}") as store:
        evs = evaluations(p, series)
        while chunk := [ev for _, ev in zip(range(batch), evs, strict=False)]:
            store.evaluations.save_many(chunk, batch_size=batch)
            done += len(chunk)
            elapsed = time.perf_counter() - began
            eta = elapsed / done * (p.steps - done)
            print(
                f"\r  {done}/{p.steps} ({done / p.steps:5.1%}) {elapsed:5.0f} s, ETA {eta:4.0f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )
    print(file=sys.stderr)
    size = path.stat().st_size / 1e9
    marker.write_text(json.dumps(asdict(p)))
    print(f"built in {time.perf_counter() - began:.0f} s, {size:.2f} GB", flush=True)


# -- measuring ------------------------------------------------------------------------------------


def timed(fn: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        out.append(time.perf_counter() - began)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached store")
    args = parser.parse_args()
    p = Params(days=args.days)
    OUT.mkdir(parents=True, exist_ok=True)
    path, marker = OUT / f"dashboard_store_{p.days}d.db", OUT / f"dashboard_store_{p.days}d.json"
    cached = marker.exists() and json.loads(marker.read_text()) == asdict(p) and path.exists()
    if args.rebuild or not cached:
        build(p, path, marker)
    else:
        print(f"reusing {path} ({path.stat().st_size / 1e9:.2f} GB; --rebuild to rebuild)")

    url = f"sqlite:///{path}"
    os.environ["SLOCTL_STORE_URL"] = url  # read by sloctl.settings inside the page
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    # Clearing caches outside a running script logs two warnings each time: drop them (a filter
    # survives the log level resets AppTest does).
    for name in ("caching.cache_data_api", "scriptrunner_utils.script_run_context"):
        logging.getLogger(f"streamlit.runtime.{name}").addFilter(
            lambda record: record.levelno >= logging.ERROR
        )

    from dashboard import data

    def render(clear: bool) -> Callable[[], None]:
        def run() -> None:
            if clear:
                st.cache_data.clear()
                st.cache_resource.clear()
            page = AppTest.from_file(str(APP), default_timeout=120)
            page.run()
            if page.exception:
                raise RuntimeError(page.exception[0].value)
            assert len(page.metric) == 4, "the page did not render its tiles"

        return run

    render(clear=True)()  # warm-up: imports, SQLite page cache
    rows: list[tuple[str, list[float]]] = []
    data.HISTORY_POINTS = 500
    rows.append(("page, cold cache (downsampled to 500 points)", timed(render(True), args.repeats)))
    rows.append(("page, warm cache (st.cache_data hit)", timed(render(False), args.repeats)))
    data.HISTORY_POINTS = None
    rows.append(
        ("baseline: page, cold, full-resolution history", timed(render(True), args.repeats))
    )
    data.HISTORY_POINTS = 500

    with StoreReader(url) as store:
        ev = store.evaluations.latest()
        assert ev is not None
        since = ev.at - timedelta(days=30)
        slo_id, service = ev.slos[0].slo_id, ev.slos[0].service
        queries = [
            ("query: latest_evaluation (40 SLOs, 120 alerts)", store.evaluations.latest),
            (
                "query: slo_history 30 d, 500 points",
                lambda: store.evaluations.slo_history(slo_id, since),
            ),
            (
                "baseline: slo_history 30 d, every point",
                lambda: store.evaluations.slo_history(slo_id, since, max_points=None),
            ),
            (
                "query: signal_history 30 d, 500 points",
                lambda: store.evaluations.signal_history(service, since),
            ),
            (
                "baseline: signal_history 30 d, every point",
                lambda: store.evaluations.signal_history(service, since, max_points=None),
            ),
        ]
        points = len(store.evaluations.slo_history(slo_id, since, max_points=None))
        for label, fn in queries:
            fn()
            rows.append((label, timed(fn, args.repeats)))

    report(rows, p, points, args.repeats)


def report(rows: list[tuple[str, list[float]]], p: Params, points: int, repeats: int) -> None:
    medians = {label: statistics.median(times) for label, times in rows}
    baselines = {
        "page": medians["baseline: page, cold, full-resolution history"],
        "slo_history": medians["baseline: slo_history 30 d, every point"],
        "signal_history": medians["baseline: signal_history 30 d, every point"],
    }
    print(
        f"\n{p.days} days x {86400 // p.step}/day evaluations, {p.services} services, "
        f"{2 * p.services} SLOs; {points} points per series in 30 d; median of {repeats} runs"
    )
    print(f"| {'measurement':<48} | {'median s':>8} | {'min s':>7} | {'vs baseline':>11} |")
    print(f"|{'-' * 50}|{'-' * 10}:|{'-' * 8}:|{'-' * 12}:|")
    for label, times in rows:
        key = next((k for k in baselines if k in label), None)
        ratio = "" if key is None else f"{medians[label] / baselines[key]:.3f}"
        print(f"| {label:<48} | {medians[label]:8.3f} | {min(times):7.3f} | {ratio:>11} |")
    cold = medians["page, cold cache (downsampled to 500 points)"]
    verdict = "PASS" if cold < TARGET_SECONDS else "FAIL"
    print(f"\ntarget: cold page render < {TARGET_SECONDS} s: {cold:.3f} s -> {verdict}")


if __name__ == "__main__":
    main()
