"""Retention from the settings: `sloctl db prune [--dry-run]` and the daily prune of
`sloctl serve` (its job, and a real daemon pruning after its first cycle)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.errors import SettingsError, StoreError
from sloctl.runtime.daemon import Daemon
from sloctl.runtime.prune import PruneJob, budget_for
from sloctl.settings import Settings, load_settings
from sloctl.store import Store
from sloctl.store.retention import RetentionPolicy
from sloctl.store.schema import evaluations, slo_rollups
from tests.support.evaluations import evaluation, slo
from tests.support.processes import free_port, wait_until

HOUR = timedelta(hours=1)


def fill(url: str, now: datetime, days: int) -> int:
    """One evaluation every 30 minutes over ``days`` days up to ``now``; returns how many."""
    evs = [evaluation(now - i * HOUR / 2, [slo("checkout", "availability", now - i * HOUR / 2)])
           for i in range(days * 48, -1, -1)]
    with Store(url) as store:
        store.evaluations.save_many(evs)
    return len(evs)


def run(*args: str, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"SLOCTL_CONFIG": "", **env})
    return result.exit_code, " ".join(result.output.split())


def test_retention_settings_from_the_file_and_the_variables(tmp_path: Path) -> None:
    assert load_settings(env={}).retention.model_dump() == {
        "raw_days": 8, "hourly_days": 90, "daily_days": 400}
    config = tmp_path / "sloctl.yaml"
    config.write_text("retention: {raw_days: 3, hourly_days: 30}\n")
    settings = load_settings(config, env={"SLOCTL_RETENTION_DAILY_DAYS": "365"})
    assert settings.retention.model_dump() == {"raw_days": 3, "hourly_days": 30,
                                               "daily_days": 365}
    with pytest.raises(SettingsError, match=r"raw_days \(40\) <= hourly_days \(30\)"):
        load_settings(config, env={"SLOCTL_RETENTION_RAW_DAYS": "40"})
    with pytest.raises(SettingsError, match="SLOCTL_RETENTION_HOURLY_DAYS"):
        load_settings(env={"SLOCTL_RETENTION_HOURLY_DAYS": "0"})


def test_db_prune_dry_run_changes_nothing_then_prune_removes_what_it_showed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sloctl.db"
    env = {"SLOCTL_STORE_URL": f"sqlite:///{path}", "SLOCTL_RETENTION_RAW_DAYS": "2",
           "SLOCTL_RETENTION_HOURLY_DAYS": "3", "SLOCTL_RETENTION_DAILY_DAYS": "4"}
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert fill(env["SLOCTL_STORE_URL"], now, days=5) == 241
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    code, text = run("db", "prune", "--dry-run", env=env)
    assert code == 0, text
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert "every evaluation 2 d, hourly roll-ups 3 d, daily roll-ups 4 d" in text
    raw = 3 * 48  # 5 days of half hours, minus the 2 days kept (and the one at now)
    assert f"raw evaluations {raw} " in text and f"raw slo_results {raw} " in text
    assert f"hourly slo_rollups {raw // 2} " in text  # 72 hours would be rolled up
    code, text = run("db", "prune", env=env)
    assert code == 0, text
    assert f"raw evaluations {raw} " in text and "done in" in text
    with Store(env["SLOCTL_STORE_URL"]) as store:
        with store.engine.connect() as conn:
            left = conn.scalar(select(func.count()).select_from(evaluations))
            rollups = conn.execute(select(slo_rollups.c.resolution, func.count())
                                   .group_by(slo_rollups.c.resolution)).all()
        assert left == 2 * 48 + 1
        hours = 24 + now.hour  # from the UTC day 3 days back to the hour 2 days back
        assert sorted(rollups) == [(3600, hours), (86400, 1)]  # and the day 4 days back
    code, text = run("db", "prune", env=env)
    assert code == 0 and "nothing to prune" in text
    code, text = run("db", "--help", env=env)
    assert "prune" in text and "never pruned" in text


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_prune_job_runs_once_a_day_and_goes_on_when_its_budget_runs_out(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    now = datetime(2025, 3, 20, 12, tzinfo=UTC)
    fill(url, now, days=4)
    clock = Clock(now)
    with Store(url) as store:
        job = PruneJob(store, RetentionPolicy(1, 2, 3), budget=0.0, clock=clock)
        paused = job.maybe_run()  # no time at all: nothing done, due again
        assert paused is not None and not paused.finished and job.last_done is None
        job.budget = 10.0
        done = job.maybe_run()
        assert done is not None and done.finished and job.last_done == now
        clock.now = now + timedelta(hours=23)
        assert job.maybe_run() is None  # not a day yet
        clock.now = now + timedelta(days=1)
        again = job.maybe_run()
        assert again is not None and again.deleted[("raw", "evaluations")] == 48
    # a store that fails is logged and retried an hour later, never raised
    job.store = Store(url)
    job.store.close()
    job.store.retention.prune = _broken  # type: ignore[method-assign, assignment]
    clock.now = now + timedelta(days=2)
    assert job.maybe_run() is None and job.next_try == clock.now + HOUR
    assert budget_for(60) == 15.0 and budget_for(5) == 1.25 and budget_for(3600) == 15.0


def _broken(*_args: object, **_kwargs: object) -> None:
    raise StoreError("the store sqlite:///x failed: disk I/O error")


def test_serve_prunes_after_its_first_cycle(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    now = datetime.now(UTC)
    last = now - timedelta(minutes=1)
    fill(url, last, days=3)
    settings = Settings.model_validate({
        "store_url": url,
        "prometheus": {"url": f"http://127.0.0.1:{free_port()}", "timeout_seconds": 1},
        "receiver": {"enabled": False},
        "retention": {"raw_days": 1, "hourly_days": 2, "daily_days": 3},
    })
    cuts = {RetentionPolicy(1, 2, 3).cutoffs(now + d).raw for d in (timedelta(0), HOUR / 12)}
    kept = {sum(1 for i in range(3 * 48 + 1) if last - i * HOUR / 2 >= cut) for cut in cuts}

    def pruned() -> bool | None:
        with Store(url) as store, store.engine.connect() as conn:
            left = int(conn.scalar(select(func.count()).select_from(evaluations)) or 0)
            hourly = int(conn.scalar(select(func.count()).select_from(slo_rollups)) or 0)
        # + the cycle's own evaluation; the daemon's clock may have passed an hour since now
        return True if left - 1 in kept and hourly else None

    with Daemon(settings, [], interval=3600, tracing=False):
        wait_until(pruned, 30, "the daily prune after the first cycle")
