"""`sloctl deploy record` and `sloctl dora` through CliRunner on a tmp SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.errors import EXIT_USAGE
from sloctl.store import Store

# Fixed to the minute so that the recorded times are whole minutes in the past.
NOW = datetime.now(UTC).replace(second=0, microsecond=0)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no ./sloctl.yaml
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    Store(url).close()  # an empty store (read-only commands need one)
    return {"SLOCTL_STORE_URL": url, "SLOCTL_CONFIG": ""}


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


def record(env: dict[str, str], version: str, sha: str, days_ago: int, *extra: str) -> str:
    finished = NOW - timedelta(days=days_ago)
    code, output = run(
        env, "deploy", "record", "--service", "checkout", "--environment", "production",
        "--version", version, "--sha", sha,
        "--commit-time", (finished - timedelta(minutes=30)).isoformat(),
        "--finished", finished.isoformat(), "--status", "success", *extra,
    )  # fmt: skip
    assert code == 0, output
    return output


def dora_json(env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    code, output = run(env, "dora", "--output", "json", *args)
    assert code == 0, output
    cards: list[dict[str, Any]] = json.loads(output)
    return cards


def test_record_prints_what_was_stored_and_is_idempotent(env: dict[str, str]) -> None:
    first = record(env, "v1", "abcdef1", 1)
    assert first.startswith("recorded: checkout/production v1 (success) sha abcdef1")
    again = record(env, "v1", "abcdef1", 1)
    assert again.startswith("updated (same key")
    (card,) = dora_json(env)
    assert card["metrics"]["deployment_frequency"]["n"] == 1


def test_bad_event_exits_2_naming_the_field_and_stores_nothing(env: dict[str, str]) -> None:
    code, output = run(
        env, "deploy", "record", "--service", "checkout", "--environment", "production",
        "--version", "v1", "--sha", "abcdef1", "--commit-time", "2026-01-01T00:00:00Z",
        "--finished", "not-a-time", "--status", "success",
    )  # fmt: skip
    assert code == EXIT_USAGE
    assert "finished_at: is not a timestamp" in output
    code, output = run(
        env, "deploy", "record", "--service", "checkout", "--environment", "production",
        "--version", "v1", "--sha", "abcdef1", "--commit-time", "2026-01-01T00:00:00Z",
        "--finished", "2026-01-01T01:00:00Z", "--status", "success", "--commit", "abcdef1",
    )  # fmt: skip
    assert code == EXIT_USAGE
    assert "commits[0]" in output and "SHA@TIME" in output
    cards = dora_json(env)
    assert [c["scope"] for c in cards] == ["organisation"]  # nothing stored: an empty org
    assert cards[0]["metrics"]["deployment_frequency"]["n"] == 0


def test_dora_json_values_level_goal_and_trend(env: dict[str, str]) -> None:
    # Six deployments 1..6 days ago, each 30 min after its commit; one 40 days ago (previous
    # 30-day period), committed 30 min before too.
    for i in range(1, 7):
        record(env, f"v{i}", f"{i:07d}", i)
    record(env, "v0", "0000000", 40)
    (card,) = dora_json(env, "--since", "30d")
    assert card["scope"] == "checkout/production"
    df = card["metrics"]["deployment_frequency"]
    assert (df["n"], df["value"]) == (6, pytest.approx(6 / 30))
    assert (df["previous"], df["trend"]) == (pytest.approx(1 / 30), "better")
    lt = card["metrics"]["lead_time"]
    # every lead time is 1800 s, per head commit (no --commit lists): a lower bound
    assert (lt["n"], lt["value"], lt["p90"], lt["lower_bound"]) == (6, 1800.0, 1800.0, True)
    assert (lt["level"], lt["report_year"]) == ("elite", 2023)
    assert lt["house_goal"] == {"text": "< 1 h", "met": True}
    cfr = card["metrics"]["change_failure_rate"]
    assert (cfr["numerator"], cfr["denominator"], cfr["value"]) == (0, 6, 0.0)
    assert cfr["level"] == "elite"
    assert card["metrics"]["time_to_restore"]["no_level_reason"].startswith("the 2023 report")


def test_dora_with_few_deployments_says_why_there_is_no_level(env: dict[str, str]) -> None:
    record(env, "v1", "abcdef1", 1)
    code, output = run(env, "dora", "--service", "checkout", "--report-year", "2021")
    assert code == 0, output
    assert "only 1 deployment(s) in the window; a level needs at least 5" in output


@pytest.mark.parametrize(
    ("args", "words"),
    [
        pytest.param(["--service", "nope"], "no production deployments", id="unknown-service"),
        pytest.param(["--team", "nope"], "unknown team 'nope'", id="unknown-team"),
        pytest.param(["--report-year", "2022"], "report year 2022", id="unknown-year"),
        pytest.param(["--since", "30x"], "--since '30x': not a time", id="bad-since"),
    ],
)
def test_dora_usage_errors_exit_2(env: dict[str, str], args: list[str], words: str) -> None:
    code, output = run(env, "dora", *args)
    assert code == EXIT_USAGE
    assert words in " ".join(output.split())


def test_dora_table_footer_lists_weeks_and_what_was_not_counted(env: dict[str, str]) -> None:
    record(env, "v1", "abcdef1", 1)
    env = {**env, "SLOCTL_TIMEZONE": "Europe/Berlin", "COLUMNS": "200"}
    code, output = run(env, "dora")
    assert code == 0, output
    assert "deployments per ISO week (Europe/Berlin): " in output
    assert "not counted: 0 redeploy(s), 0 duplicate event(s), 0 failed deploy attempt(s)" in output
    assert "data quality: head commit only deployments 1" in output
