"""``sloctl dashboard``: Streamlit's own command line on the packaged app, on loopback, with the
settings and store of the command line passed to the app (Streamlit's main replaced here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.web import cli as streamlit_cli
from typer.testing import CliRunner

from sloctl.cli.dashboard import app_script
from sloctl.cli.main import app
from sloctl.errors import EXIT_USAGE

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[list[str], str, str]]:
    """Each Streamlit start: its arguments, and the app's SLOCTL_STORE_URL and SLOCTL_CONFIG."""
    for name in [n for n in os.environ if n.startswith("SLOCTL_")]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("SLOCTL_STORE_URL", raising=False)
    monkeypatch.delenv("SLOCTL_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    calls: list[tuple[list[str], str, str]] = []

    def fake_main(args: list[str], prog_name: str, standalone_mode: bool) -> None:
        assert prog_name == "streamlit"
        calls.append((args, os.environ.get("SLOCTL_STORE_URL", ""),
                      os.environ.get("SLOCTL_CONFIG", "")))

    monkeypatch.setattr(streamlit_cli, "main", fake_main)
    return calls


def test_the_packaged_app_runs_on_loopback_with_the_given_store_and_settings(
    started: list[tuple[list[str], str, str]], tmp_path: Path,
) -> None:
    (tmp_path / "team.yaml").write_text("interval_seconds: 30\n")
    url = f"sqlite:///{tmp_path / 'other.db'}"
    result = CliRunner().invoke(app, ["--config", "team.yaml", "dashboard", "--port", "8600",
                                      "--store", url])
    assert result.exit_code == 0, result.output
    script = str(app_script())
    assert script == str(REPO / "sloctl" / "dashboard" / "app.py")
    assert started == [(
        ["run", script, "--server.address", "127.0.0.1", "--server.port", "8600",
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        url, str(tmp_path / "team.yaml"))]
    assert f"sloctl app on http://127.0.0.1:8600 (store {url}); Ctrl-C to stop" in \
        result.output.replace("\n", "")


def test_bad_settings_stop_it_before_streamlit_starts(
    started: list[tuple[list[str], str, str]], monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLOCTL_INTERVAL", "often")
    result = CliRunner().invoke(app, ["dashboard"])
    assert result.exit_code == EXIT_USAGE
    assert "SLOCTL_INTERVAL" in result.output
    assert started == []


def test_another_address_without_a_login_is_warned_about(
    started: list[tuple[list[str], str, str]],
) -> None:
    result = CliRunner().invoke(app, ["dashboard", "--address", "0.0.0.0"])
    assert result.exit_code == 0
    assert "listening on 0.0.0.0 without dashboard.auth_header" in result.output.replace("\n", " ")
    assert started[0][0][2:4] == ["--server.address", "0.0.0.0"]
