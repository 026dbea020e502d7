"""The Streamlit scorecard page against a store filled with known evaluations.

(a) ``AppTest`` runs the page in-process: tiles and table hold the exact known values.
(b) The real ``streamlit run`` server, rendered by headless Chromium over DevTools: screenshot.
"""

from __future__ import annotations

import io
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from sloctl.core.alerts import AlertState
from sloctl.core.signals import Signal
from sloctl.store import Store
from tests.support.chromium import CHROMIUM, Chromium
from tests.support.evaluations import T0, alert, evaluation, signals, slo, unknown_slo
from tests.support.processes import free_port, http_get, stop_group, wait_until

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
DOWN = "prometheus: connection refused (127.0.0.1:9090)"
HOUR = timedelta(hours=1)
CHECKOUT_SIGNALS = {
    Signal.TRAFFIC: 42.0,
    Signal.ERROR_RATIO: 0.004,
    Signal.LATENCY_P50: 0.05,
    Signal.LATENCY_P95: 0.2,
    Signal.LATENCY_P99: 0.45,
    Signal.SATURATION: 0.6,
}


def fill(url: str) -> None:
    """72 hourly evaluations of history, then the known latest one at T0.

    Latest: checkout/availability 400 bad of 1e6 against 99.9 % (60 % budget left, burn 0.4);
    checkout/latency 2 % bad against 99 % (budget -100 %, burn 20 on the alert windows, page
    alert firing); search/availability unknown because Prometheus was down.
    """
    evs = []
    for i in range(72, 0, -1):
        at = T0 - i * HOUR
        slos = [
            slo("checkout", "availability", at, bad=400.0 - 2 * i),
            slo("checkout", "latency", at, objective=0.99, bad=20_000.0 - 250 * i),
            slo("search", "availability", at, objective=0.99, bad=1000.0),
        ]
        sig = signals("checkout", {**CHECKOUT_SIGNALS, Signal.TRAFFIC: 30.0 + i % 24})
        evs.append(evaluation(at, slos, sig))
    latest = evaluation(
        T0,
        [
            slo("checkout", "availability", T0, bad=400.0),
            slo("checkout", "latency", T0, objective=0.99, bad=20_000.0, short_bad_ratio=0.2),
            unknown_slo("search", "availability", T0, DOWN),
        ],
        [
            *signals("checkout", CHECKOUT_SIGNALS),
            *signals("search", {s: None for s in Signal}, DOWN),
        ],
        [
            alert("burn_rate:page/checkout/availability", AlertState.INACTIVE, T0),
            alert(
                "burn_rate:page/checkout/latency",
                AlertState.FIRING,
                T0,
                slo_id="checkout/latency",
                since=T0 - HOUR,
            ),
            alert("default:error_ratio/search", AlertState.INACTIVE, T0, slo_id=None, reason=DOWN),
        ],
        problems=(DOWN,),
    )
    evs.append(latest)
    with Store(url) as store:
        store.evaluations.save_many(evs)


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    for name in [n for n in os.environ if n.startswith("SLOCTL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SLOCTL_STORE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray sloctl.yaml
    return url


def run_page() -> AppTest:
    page = AppTest.from_file(str(APP), default_timeout=60)
    page.run()
    assert not page.exception, [e.value for e in page.exception]
    return page


def test_tiles_hold_the_known_values(store_url: str) -> None:
    fill(store_url)
    page = run_page()
    tiles = [(m.label, m.value, m.delta) for m in page.metric]
    assert tiles == [
        ("SLOs meeting objective", "1/3", "1 unknown"),
        ("Lowest budget remaining", "-100.0%", "checkout/latency"),
        ("Alerts firing", "1", "0 pending"),
        ("Last evaluation (UTC)", "Mar 01 12:00", "incomplete: 1 problem(s)"),
    ]
    assert page.metric[0].help == "unknown: search/availability"
    assert page.metric[3].help == DOWN


def test_table_holds_the_known_values(store_url: str) -> None:
    fill(store_url)
    frame = run_page().dataframe[0].value
    rows = frame.to_dict(orient="records")
    assert [(r["Service"], r["SLO"], r["Alert"]) for r in rows] == [
        ("checkout", "availability", "inactive"),
        ("checkout", "latency", "firing"),
        ("search", "availability", "inactive"),
    ]
    # budget minutes: 0.1 % (1 %) of 30 days = 43.2 min (432 min), times the share left
    expected = {
        "Objective %": [99.9, 99.0, 99.0],
        "SLI %": [99.96, 98.0, math.nan],
        "Budget left %": [60.0, -100.0, math.nan],
        "Budget left (min)": [25.92, -432.0, math.nan],
        "Burn 1h": [0.4, 20.0, math.nan],
        "Burn 6h": [0.4, 20.0, math.nan],
        "Burn 1d": [0.4, 20.0, math.nan],
        "Burn 3d": [0.4, 20.0, math.nan],
    }
    for column, values in expected.items():
        assert frame[column].tolist() == pytest.approx(values, nan_ok=True), column


def test_unknown_values_are_explained_not_zero(store_url: str) -> None:
    fill(store_url)
    page = run_page()
    captions = [c.value for c in page.caption]
    assert f"**unknown** values: search/availability: {DOWN}" in captions
    assert page.dataframe[0].value["Budget left %"].isna().tolist() == [False, False, True]
    assert page.dataframe[0].proto.placeholder == "unknown"  # shown instead of NaN/None


def test_charts_follow_the_lowest_budget_slo_and_its_service(store_url: str) -> None:
    fill(store_url)
    page = run_page()
    assert page.selectbox(key="slo").value == "checkout/latency"
    assert page.selectbox(key="service").value == "checkout"
    assert page.selectbox(key="slo").options == [
        "checkout/latency",
        "checkout/availability",
        "search/availability",
    ]
    page.selectbox(key="slo").select("search/availability").run()
    captions = [c.value for c in page.caption]
    assert f"budget remaining now: **unknown** ({DOWN})" in captions
    assert page.selectbox(key="service").value == "search"
    assert any(c.startswith("**unknown** now: traffic: " + DOWN) for c in captions)


def test_empty_store_says_how_to_fill_it(store_url: str) -> None:
    page = run_page()  # no store at all: the dashboard creates nothing and says what to run
    assert len(page.error) == 1 and "does not exist yet: run `sloctl eval`" in page.error[0].value
    assert not Path(store_url.removeprefix("sqlite:///")).exists()
    Store(store_url).close()  # an empty store
    page = run_page()
    assert len(page.info) == 1
    message = page.info[0].value
    assert "holds no evaluation yet" in message
    assert "`sloctl eval`" in message and "`sloctl serve`" in message
    assert len(page.metric) == 0


def test_bad_store_url_shows_the_fix(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLOCTL_STORE_URL", "nosuchdb://127.0.0.1/sloctl")
    page = run_page()
    assert len(page.error) == 1
    assert "nosuchdb://127.0.0.1/sloctl" in page.error[0].value
    assert "SLOCTL_STORE_URL" in page.error[0].value


@pytest.fixture
def streamlit_server(store_url: str, tmp_path: Path) -> Iterator[str]:
    """``streamlit run dashboard/app.py`` on a free loopback port; stopped afterwards."""
    port = free_port()
    streamlit = Path(sys.executable).with_name("streamlit")
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [
            str(streamlit),
            "run",
            str(APP),
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
            "--server.fileWatcherType",
            "none",
        ],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_get(f"{base}/_stcore/health"), 60, "streamlit server", proc)
        yield base
    finally:
        stop_group(proc)
        log.close()


RENDERED = """(() => {
  const metrics = document.querySelectorAll('[data-testid="stMetric"]').length;
  const charts = document.querySelectorAll('[data-testid="stPlotlyChart"] .main-svg').length;
  const busy = document.querySelector(
    '[data-testid="stSkeleton"], [data-testid="stAppSkeleton"], [data-testid="stStatusWidget"]');
  return metrics === 4 && charts >= 2 && !busy;
})()"""


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_running_app_renders_in_chromium(streamlit_server: str, tmp_path: Path) -> None:
    fill(os.environ["SLOCTL_STORE_URL"])
    with Chromium() as browser, browser.page() as page:
        page.set_viewport(1400, 2200)
        page.navigate(streamlit_server)
        page.wait_for(RENDERED, timeout=90)
        text = page.evaluate("document.body.innerText")
        png = page.screenshot()
    shot = tmp_path / "scorecard.png"
    shot.write_bytes(png)

    assert "SLO scorecard" in text
    assert "checkout/latency" in text  # lowest-budget tile and selected SLO
    assert "search/availability" in text  # unknown-values caption
    assert "-100.0%" in text and "1/3" in text
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (1400, 2200)
    colours = image.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 100  # text, tile borders, chart lines: not a blank or grey page
    white = max(count for count, _ in colours)
    assert white < 0.97 * image.size[0] * image.size[1]
