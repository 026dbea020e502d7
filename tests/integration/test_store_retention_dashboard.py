"""The scorecard page on a pruned store: its burn-down and golden-signal charts draw every tier
(daily and hourly roll-ups, then raw evaluations), each point with its known value."""

from __future__ import annotations

import base64
import json
import os
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from sloctl.store import Store, StoreReader
from tests.unit.test_store_retention import (
    LAST,
    NOW,
    POLICY,
    SLO_ID,
    budget,
    expected,
    known_evaluation,
)

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


@pytest.fixture
def pruned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    for name in [n for n in os.environ if n.startswith("SLOCTL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SLOCTL_STORE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray sloctl.yaml
    with Store(url) as store:
        store.evaluations.save_many(known_evaluation(k) for k in range(LAST + 1))
        assert store.retention.prune(NOW, POLICY).finished
    return url


def chart(page: AppTest, index: int) -> tuple[list[str], list[float]]:
    """x (ISO times) and y of the first trace of the page's ``index``-th chart."""
    trace = json.loads(page.get("plotly_chart")[index].proto.spec)["data"][0]
    y = trace["y"]
    if isinstance(y, dict):  # plotly's typed array: base64 of the raw doubles
        y = np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
    return [str(x)[:19] for x in trace["x"]], list(y)


def test_the_charts_draw_daily_hourly_and_raw_points(pruned: str) -> None:
    page = AppTest.from_file(str(APP), default_timeout=60)
    page.run()
    assert not page.exception, [e.value for e in page.exception]
    assert page.selectbox(key="slo").value == "checkout/availability"
    with StoreReader(pruned) as reader:
        ev = reader.evaluations.latest()
        assert ev is not None
        since = ev.at - timedelta(days=30)  # the page's default range, 500 points
        history = reader.evaluations.slo_history(SLO_ID, since, ev.at, 500)
        signals = reader.evaluations.signal_history("checkout", since, ev.at, 500)
    assert set(history["tier"]) == {"daily", "hourly", "raw"}
    x, y = chart(page, 0)
    assert x == [t.strftime("%Y-%m-%dT%H:%M:%S") for t in history["at"]]
    assert y == pytest.approx((history["budget_remaining"] * 100).tolist(), nan_ok=True)
    # a daily point (a day apart: one per bucket) is the known roll-up of its day
    days = [p for p in expected(budget) if p.tier == "daily"]
    daily = history[history["tier"] == "daily"]
    assert [t.to_pydatetime() for t in daily["at"]] == [p.at for p in days]
    assert daily["budget_remaining"].tolist() == pytest.approx([p.last for p in days])
    assert daily["budget_remaining_min"].tolist() == pytest.approx([p.low for p in days])
    x, y = chart(page, 1)
    assert y == pytest.approx(signals["traffic"].tolist(), nan_ok=True)
