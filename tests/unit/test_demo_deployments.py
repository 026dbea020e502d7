"""The demo's deployment history: deterministic, consistent with the order incident, and every
DORA figure has data (non-empty sample sizes for all six)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sloctl.demo.deployments import DAILY, record_history, shop_history
from sloctl.dora.compute import scorecard
from sloctl.dora.history import Attribution, build_histories
from sloctl.dora.incidents import load_dora_incidents
from sloctl.dora.levels import Metric
from sloctl.dora.model import DeployStatus, DoraConfig
from sloctl.settings import load_settings
from sloctl.store import Store

END = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # a Friday; the burst starts Thu 14:00
CONFIG = DoraConfig()


def figures(end: datetime) -> dict[Metric, tuple[Any, int]]:
    history = shop_history(end)
    histories = build_histories(history.deployments, history.incidents, CONFIG)
    card = scorecard(list(histories.values()), end - timedelta(days=30), end, UTC, CONFIG, "org")
    return {f.metric: (f.value, f.n) for f in card.figures}


@pytest.mark.parametrize(
    "end",
    [
        pytest.param(END, id="friday-morning"),
        pytest.param(datetime(2026, 11, 29, 20, 0, tzinfo=UTC), id="sunday-evening"),
        pytest.param(datetime(2026, 11, 30, 3, 30, tzinfo=UTC), id="monday-night"),
    ],
)
def test_every_dora_figure_has_samples(end: datetime) -> None:
    sizes = {metric: n for metric, (_, n) in figures(end).items()}
    assert set(sizes) == set(Metric)
    assert all(n > 0 for n in sizes.values()), sizes


def test_known_values_of_the_friday_history() -> None:
    got = figures(END)
    # 22 weekdays in [Oct 28 10:00, Nov 27 10:00) x 12 daily slots, minus the slots outside
    # the window and the order slots near the burst, plus bad release, rollback and hotfix.
    assert got[Metric.DEPLOYMENT_FREQUENCY] == (pytest.approx(264 / 30), 264)
    assert got[Metric.CHANGE_FAILURE_RATE] == (pytest.approx(2 / 263), 263)  # rollback excluded
    # order: bad 13:50 -> incident resolved 14:30 (40 min); payment: hotfix after 75 min.
    assert got[Metric.RECOVERY_TIME] == (pytest.approx((40 * 60 + 75 * 60) / 2), 2)
    assert got[Metric.TIME_TO_RESTORE] == (30 * 60, 1)  # the 30 min burst
    assert got[Metric.REWORK_RATE] == (pytest.approx(2 / 264), 264)  # rollback and hotfix


def test_the_bad_order_release_is_rolled_back_and_blamed_for_the_burst() -> None:
    history = shop_history(END)
    (incident,) = history.incidents
    assert (incident.start, incident.end) == (
        END - timedelta(hours=20),
        END - timedelta(hours=19.5),
    )
    order = build_histories(history.deployments, history.incidents, CONFIG)[("order", "production")]
    (link,) = order.incidents
    assert link.reason is Attribution.STRONG
    failed = [f for f in order.deployments if f.failed]
    (bad,) = failed
    assert bad.finished == incident.start - timedelta(minutes=10)
    assert bad.failed_by == ["rollback", "in_effect_strong"]
    (rollback,) = [f for f in order.deployments if f.rollback]
    assert rollback.deployment.status is DeployStatus.ROLLBACK
    assert rollback.finished == END - timedelta(hours=19, minutes=35)
    assert bad.recovered_at == incident.end


def test_history_is_deterministic_and_several_deploys_a_day() -> None:
    assert shop_history(END) == shop_history(END)
    per_service = {s: 0 for s in DAILY}
    for d in shop_history(END).deployments:
        if d.status.completed and END - timedelta(days=1) <= d.finished:
            per_service[d.service] += 1
    # Thursday 10:00 to Friday 09:55 UTC: order 10:50 and Fri 08:40 (13:20 and 15:45 are near
    # the 14:00 burst) plus the bad release and the rollback; inventory only Thu 14:35.
    want = {"order": 4, "user": 3, "inventory": 1, "payment": 2, "notification": 1}
    assert per_service == want


def test_recorded_history_feeds_the_stored_incidents(tmp_path: Path) -> None:
    settings = load_settings(None, {"SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 's.db'}"})
    history = shop_history(END)
    with Store(settings.store_url) as store:
        assert record_history(store, history, END) == len(history.deployments)
        assert record_history(store, history, END) == len(history.deployments)  # idempotent
        stored = store.deployments.history()
        assert sorted(stored, key=str) == sorted(history.deployments, key=str)
        (incident,) = load_dora_incidents(store, settings, END)
    (expected,) = history.incidents
    assert (incident.service, incident.environment) == ("order", "production")
    assert (incident.start, incident.end, incident.severity) == (
        expected.start,
        expected.end,
        "critical",
    )
