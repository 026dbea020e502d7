"""`sloctl db`: its help teaches when and how to upgrade; current and upgrade on a SQLite store."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.store import migrate


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"SLOCTL_CONFIG": "", **(env or {})})
    return result.exit_code, " ".join(result.output.split())


def test_db_help_teaches_the_commands_and_when_to_run_them() -> None:
    code, text = run("db", "--help")
    assert code == 0
    for words in ("current", "upgrade", "one transaction", "back the store up",
                  "sloctl serve --upgrade-db", "A new SQLite file needs no upgrade"):
        assert words in text, words
    code, serve = run("serve", "--help")
    assert code == 0 and "--upgrade-db" in serve


def test_current_and_upgrade_on_a_sqlite_store(tmp_path: Path) -> None:
    env = {"SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'sloctl.db'}"}
    code, text = run("db", "current", env=env)
    assert code == 2 and "does not exist yet" in text  # reading creates nothing
    code, text = run("db", "upgrade", env=env)
    head, known = migrate.head(), ", ".join(migrate.revisions())
    assert code == 0 and f"upgraded from revision none to {head}" in text
    code, text = run("db", "current", "--check", env=env)
    assert code == 0 and f"schema revision {head}: up to date" in text
    assert f"sloctl revision {head} (known: {known})" in text
    code, text = run("db", "upgrade", "--to", "0042", env=env)
    assert code == 2 and f"Known revisions: {known}" in text
