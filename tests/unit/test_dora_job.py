"""The DORA job: scorecards computed from the stored deployments and incidents, stored as a time
series, recomputed by the scheduler at most every 5 minutes; scope errors name what is known."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sloctl.demo.deployments import record_history, shop_history
from sloctl.dora import job as dora_job
from sloctl.dora.compute import rollups
from sloctl.dora.history import build_histories
from sloctl.dora.incidents import load_dora_incidents
from sloctl.dora.levels import Metric
from sloctl.dora.model import DoraConfig
from sloctl.errors import StoreError
from sloctl.settings import Settings, load_settings
from sloctl.store import Store
from sloctl.store.scorecard_codec import decode, encode
from sloctl.store.scorecards import Scorecards, StoredScorecard

END = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # the demo history's known values hold here
SERVICES = ["inventory", "notification", "order", "payment", "user"]


def known_dora(computed_at: datetime = END) -> list[StoredScorecard]:
    """The demo history's scorecards (services and organisation) as the store returns them."""
    history = shop_history(END)
    config = DoraConfig()
    histories = build_histories(history.deployments, history.incidents, config)
    cards = rollups(histories, {}, END - dora_job.WINDOW, END, UTC, config)
    return [
        StoredScorecard(computed_at, decode(json.loads(json.dumps(encode(c)))))
        for c in cards
    ]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(None, {"SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'sloctl.db'}"})


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store(settings.store_url) as s:
        record_history(s, shop_history(END), END)
        yield s


def test_compute_and_store_saves_every_scope_with_the_known_values(
    store: Store, settings: Settings
) -> None:
    incidents = load_dora_incidents(store, settings, END)
    cards = dora_job.compute_and_store(store, settings, END, incidents)
    assert [c.scope for c in cards] == [f"{s}/production" for s in SERVICES] + ["organisation"]
    latest = store.scorecards.latest()
    assert [(s.scope, s.computed_at, s.kind) for s in latest] == [
        (c.scope, END, "organisation" if c.scope == "organisation" else "service") for c in cards
    ]
    org = latest[-1]
    assert (org.card.since, org.card.until) == (END - timedelta(days=30), END)
    cfr = org.card.figure(Metric.CHANGE_FAILURE_RATE)
    assert (cfr.numerator, cfr.denominator) == (2, 263)
    assert cfr.details["failed_by"] == {"hotfix": 1, "rollback": 1}
    assert org.card.figure(Metric.TIME_TO_RESTORE).value == 1800.0  # the stored order incident
    assert org.card.figure(Metric.RECOVERY_TIME).value == (40 * 60 + 75 * 60) / 2
    assert org.card.figure(Metric.DEPLOYMENT_FREQUENCY).n == 264
    assert latest == known_dora()


def test_latest_is_the_last_computation_and_history_is_per_scope(
    store: Store, settings: Settings
) -> None:
    results = store.scorecards
    assert results.latest() == [] and results.last_computed_at() is None
    for minutes in (0, 5, 10):
        dora_job.compute_and_store(store, settings, END + timedelta(minutes=minutes))
    assert results.last_computed_at() == END + timedelta(minutes=10)
    assert {s.computed_at for s in results.latest()} == {END + timedelta(minutes=10)}
    org = results.history("organisation", since=END + timedelta(minutes=5))
    assert [s.computed_at for s in org] == [END + timedelta(minutes=m) for m in (5, 10)]
    assert len(results.history("order/production")) == 3


def test_job_runs_at_most_every_five_minutes(store: Store, settings: Settings) -> None:
    now = [END]
    job = dora_job.DoraJob(store, settings, clock=lambda: now[0])
    ran = []
    for minutes in (0, 1, 4, 5, 9, 10):
        now[0] = END + timedelta(minutes=minutes)
        ran.append(job.maybe_run() is not None)
    assert ran == [True, False, False, True, False, True]
    stored = store.scorecards.history("organisation")
    assert [s.computed_at for s in stored] == [END + timedelta(minutes=m) for m in (0, 5, 10)]


def test_job_logs_a_store_error_and_retries_next_cycle(
    store: Store,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def down(*_args: object, **_kwargs: object) -> None:
        raise StoreError("saving DORA scorecards in the store sqlite:///x.db failed: disk full")

    job = dora_job.DoraJob(store, settings, clock=lambda: END)
    monkeypatch.setattr(Scorecards, "save", down)
    with caplog.at_level(logging.WARNING, logger="sloctl.dora.job"):
        assert job.maybe_run() is None
    assert caplog.messages == [
        "DORA scorecards not computed: saving DORA scorecards in the store sqlite:///x.db "
        "failed: disk full"
    ]
    monkeypatch.undo()
    assert job.maybe_run() is not None  # not throttled: the failed run did not count


SCOPE_ERRORS = [
    pytest.param(
        {"team": "nope"}, {"shop": ("order",)}, "unknown team 'nope'. Known teams: shop",
        id="unknown-team",
    ),
    pytest.param(
        {"team": "nope"}, {}, "unknown team 'nope'. Known teams: none (set dora.teams in "
        "sloctl.yaml)", id="no-teams",
    ),
    pytest.param(
        {"service": "cart"}, {}, "no production deployments or incidents for 'cart'. Record "
        "some with `sloctl deploy record` or POST /api/v1/deployments.", id="unknown-service",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("scope", "teams", "message"), SCOPE_ERRORS)
def test_unknown_scope_is_a_usage_error_naming_what_exists(
    store: Store, scope: dict[str, str], teams: dict[str, tuple[str, ...]], message: str
) -> None:
    with pytest.raises(dora_job.DoraScopeError) as err:
        dora_job.scorecards(
            store.deployments, (), DoraConfig(), teams, END - timedelta(days=30),
            END, UTC, **scope,
        )  # fmt: skip
    assert str(err.value) == message and err.value.exit_code == 2


def test_team_and_service_scopes(store: Store) -> None:
    def scopes(**kwargs: str) -> list[str]:
        cards = dora_job.scorecards(
            store.deployments, (), DoraConfig(), {"shop": ("order", "payment")},
            END - timedelta(days=30), END, UTC, **kwargs,
        )  # fmt: skip
        return [c.scope for c in cards]

    assert scopes(team="shop") == [
        "order/production", "payment/production", "team shop", "organisation"
    ]  # fmt: skip
    assert scopes(service="payment") == ["payment/production"]
