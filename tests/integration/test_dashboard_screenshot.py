"""The real app (``streamlit run`` on 127.0.0.1) on the demo shop's stored history, rendered by
headless Chromium over DevTools: each page waits for its known elements, then is captured and
checked (not blank, not a grey skeleton, the stored figures in the DOM)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.support.chromium import CHROMIUM, Chromium, Page
from tests.support.dashboard_app import APP, app_store_fixture  # noqa: F401 (fixture app_store)
from tests.support.dashboard_history import fill
from tests.support.processes import free_port, http_get, stop_group, wait_until

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed")
WIDTH, HEIGHT = 1400, 2000


@pytest.fixture
def streamlit_server(app_store: str, tmp_path: Path) -> Iterator[str]:
    """``streamlit run dashboard/app.py`` on a free loopback port, on the filled store."""
    fill(app_store)
    port = free_port()
    streamlit = Path(sys.executable).with_name("streamlit")
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [str(streamlit), "run", str(APP), "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=tmp_path, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_get(f"{base}/_stcore/health"), 60, "streamlit server", proc)
        yield base
    finally:
        stop_group(proc)
        log.close()


def rendered(metrics: int, charts: int) -> str:
    """JavaScript: true once the page has its tiles and drawn charts and nothing is loading."""
    return f"""(() => {{
  const metrics = document.querySelectorAll('[data-testid="stMetric"]').length;
  const charts = document.querySelectorAll('[data-testid="stPlotlyChart"] .main-svg').length;
  const busy = document.querySelector(
    '[data-testid="stSkeleton"], [data-testid="stAppSkeleton"], [data-testid="stStatusWidget"]');
  return metrics >= {metrics} && charts >= {charts} && !busy;
}})()"""


def capture(page: Page, url: str, ready: str, shot: Path) -> str:
    """Open ``url``, wait until ``ready``, save a screenshot; the page's text."""
    page.navigate(url)
    page.wait_for(ready, timeout=90)
    text: str = page.evaluate("document.body.innerText")
    png = page.screenshot()
    shot.write_bytes(png)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    colours = image.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 100  # text, tile borders, chart lines: not a blank or grey page
    background = max(count for count, _ in colours)
    assert background < 0.97 * WIDTH * HEIGHT
    return text


def test_the_pages_render_in_chromium(streamlit_server: str, tmp_path: Path) -> None:
    base = streamlit_server
    with Chromium() as browser, browser.page() as page:
        page.set_viewport(WIDTH, HEIGHT)
        shots = {name: capture(page, f"{base}/{path}", ready, tmp_path / f"{name}.png")
                 for name, path, ready in (
                     ("overview", "?period=2026-W47", rendered(7, 0)),
                     ("services", "services?service=order", rendered(5, 3)),
                     ("slos", "slos?slo=payment/availability", rendered(4, 2)),
                     ("dora", "dora", rendered(6, 2)),
                     ("incidents", "incidents", rendered(3, 1)),
                     ("reports", "reports?scope=team/shop", rendered(0, 5)),
                 )}
    overview = shots["overview"]
    # the stored scorecard's tiles, as the email writes them
    for figure in ("99.765 %", "-0.130 pp worse", "goal 99.95 %", "9 of 10", "1.71/day",
                   "1.8 h", "1.67 %", "goal < 3 %", "20 min", "3/5",
                   "Services inside the alert rules"):
        assert figure in overview, figure
    assert "Outside 5 of 6 goals this period" in overview
    for text in shots.values():  # freshness on every page
        assert "last evaluation 2026-11-27 10:00 UTC" in text
    assert "Deployments, canary judgements and incidents" in shots["services"]
    assert "inside the rule" in shots["services"] and "alert above 0.50 %" in shots["services"]
    assert "-20.0%" in shots["slos"] and "Golden signals of payment" in shots["slos"]
    assert "8.80/day" in shots["dora"]  # the rolling tiles
    assert "payment@2026-11-19T10:30:00Z: in_effect_strong" in shots["incidents"]
    assert "Team shop scorecard 2026-W47" in shots["reports"]
