"""Render time of every page of the app at 100 services x 90 days of stored history.

The store (``bench/dashboard_history.py``, built once and cached in bench/out/): evaluations
every 60 s for the last 8 days and hourly roll-ups before them (the retention tiers, 90 days),
100 services x 2 SLOs, 13 stored weekly scorecards of every scope, deployments, canary
judgements, incidents and DORA scorecards. Each page is rendered with Streamlit's ``AppTest``
(the whole script run: access check, filters, freshness, then the page), median of
``--repeats`` runs of one visitor's session (set up once, untimed: AppTest's own session set-up
costs about 0.2 s, which a running server does not pay):

- cold: Streamlit's caches cleared before each run (store opened, every query run);
- warm: the queries served from ``st.cache_data`` (a reload within the TTL);
- baselines (the same run): a bare Streamlit page (a title and one tile) rendered the same
  way, and the history pages cold at full resolution (no SQL downsampling).

Targets (issue #12): every page <= 1.5 s cold and <= 0.3 s warm.

    .venv/bin/python bench/dashboard_render.py [--repeats 5] [--rebuild]
        [--services 100 --days 90 --step 60]   (a smaller store for a quick look)
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import streamlit as st  # noqa: E402
from dashboard_history import Params, cached  # noqa: E402  (bench/, the script's folder)
from streamlit.testing.v1 import AppTest  # noqa: E402

from sloctl.store import StoreReader  # noqa: E402

OUT = REPO / "bench" / "out"
APP = REPO / "dashboard" / "app.py"
COLD_TARGET, WARM_TARGET = 1.5, 0.3
# page, URL parameters (a service page shows one service's detail)
PAGES: tuple[tuple[str, dict[str, str]], ...] = (
    ("overview", {}),
    ("services", {}),
    ("services", {"service": "svc-00"}),
    ("slos", {}),
    ("dora", {}),
    ("incidents", {}),
    ("reports", {}),
)
HISTORY_PAGES = ("services?service=svc-00", "slos")  # their charts read the tiered history
BARE = "import streamlit as st\nst.title('bare')\nst.metric('tile', '1')\n"


def median(fn: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``repeats`` calls."""
    out = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        out.append(time.perf_counter() - began)
    return statistics.median(out)


def quiet_streamlit() -> None:
    """Clearing caches outside a running script logs warnings each time: drop them (a filter
    survives the log level resets AppTest does)."""
    for name in ("caching.cache_data_api", "caching.cache_resource_api",
                 "scriptrunner_utils.script_run_context"):
        logging.getLogger(f"streamlit.runtime.{name}").addFilter(
            lambda record: record.levelno >= logging.ERROR)


def session(script: Path, page: str | None, params: dict[str, str]) -> AppTest:
    """A visitor's session on ``page`` (None: the script itself), run once (not timed: the
    test harness's own set-up costs about 0.2 s per session, which a server does not pay)."""
    app = AppTest.from_file(str(script), default_timeout=120)
    app.query_params.update(params)
    if page is not None:  # the page files are named as their URL paths
        app.switch_page(f"app_pages/{page}.py")
    return checked(app.run(), page)


def checked(app: AppTest, page: str | None) -> AppTest:
    if app.exception:
        raise RuntimeError(f"{page}: {app.exception[0].value}")
    if page is not None:
        assert app.title, f"{page} did not render: {[e.value for e in app.error]}"
    return app


def renderer(app: AppTest, page: str | None, clear: bool) -> Callable[[], None]:
    """One render of the session's page: the whole script run, caches cleared or warm."""

    def run() -> None:
        if clear:
            st.cache_data.clear()
            st.cache_resource.clear()
        checked(app.run(), page)

    return run


def label(page: str, params: dict[str, str]) -> str:
    return page + "".join(f"?{k}={v}" for k, v in params.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached store")
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--step", type=int, default=60, help="seconds between raw evaluations")
    args = parser.parse_args()
    p = Params(services=args.services, days=args.days, step=args.step)
    path = cached(p, OUT, args.rebuild)
    url = f"sqlite:///{path}"
    os.environ["SLOCTL_STORE_URL"] = url  # read by sloctl.settings inside the app
    quiet_streamlit()
    from sloctl.dashboard import data

    with tempfile.TemporaryDirectory() as tmp:
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE)
        floor = median(renderer(session(bare, None, {}), None, True), args.repeats)
        harness = median(lambda: session(bare, None, {}), args.repeats)
    sessions = {label(page, params): (page, session(APP, page, params))
                for page, params in PAGES}  # also the warm-up: imports, SQLite's page cache
    rows = []
    for name, (page, app) in sessions.items():
        cold = median(renderer(app, page, True), args.repeats)
        warm = median(renderer(app, page, False), args.repeats)
        rows.append((name, cold, warm))
    data.HISTORY_POINTS = None
    full = {name: median(renderer(app, page, True), args.repeats)
            for name, (page, app) in sessions.items() if name in HISTORY_PAGES}
    data.HISTORY_POINTS = 500
    report(rows, floor, harness, full, p, url, args.repeats)


def store_size(url: str) -> str:
    with StoreReader(url) as reader:
        ev = reader.evaluations.latest()
        assert ev is not None
        history = reader.evaluations.slo_history(ev.slos[0].slo_id, ev.at - timedelta(days=90),
                                                 ev.at, max_points=None)
    tiers = history["tier"].value_counts().to_dict()
    return (f"{len(ev.slos)} SLOs, {len({s.service for s in ev.signals})} services; one SLO's "
            f"90 days: {len(history)} points ({', '.join(f'{n} {t}' for t, n in tiers.items())})")


def report(rows: list[tuple[str, float, float]], floor: float, harness: float,
           full: dict[str, float], p: Params, url: str, repeats: int) -> None:
    print(f"\n{p.services} services x {p.days} days (raw every {p.step} s for {p.raw_days} days, "
          f"hourly before); {store_size(url)}; median of {repeats} runs")
    print(f"baseline: a bare Streamlit page (a title, one tile) {floor:.3f} s; a new AppTest "
          f"session of it {harness:.3f} s (the harness's set-up, not counted below)\n")
    print(f"| {'page':<28} | {'cold s':>7} | {'warm s':>7} | {'cold / bare':>11} "
          f"| {'warm / bare':>11} | {'full-res cold s':>15} |")
    print(f"|{'-' * 30}|{'-' * 8}:|{'-' * 8}:|{'-' * 12}:|{'-' * 12}:|{'-' * 16}:|")
    for name, cold, warm in rows:
        baseline = f"{full[name]:.3f}" if name in full else ""
        print(f"| {name:<28} | {cold:7.3f} | {warm:7.3f} | {cold / floor:11.1f} "
              f"| {warm / floor:11.1f} | {baseline:>15} |")
    worst_cold = max(cold for _, cold, _ in rows)
    worst_warm = max(warm for _, _, warm in rows)
    verdict = "PASS" if worst_cold <= COLD_TARGET and worst_warm <= WARM_TARGET else "FAIL"
    print(f"\ntargets: every page cold <= {COLD_TARGET} s (slowest {worst_cold:.3f} s), warm <= "
          f"{WARM_TARGET} s (slowest {worst_warm:.3f} s) -> {verdict}")


if __name__ == "__main__":
    main()
