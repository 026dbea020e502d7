"""The app: loopback by default however it is started, and an optional login by an
authenticating proxy's header (``dashboard/access.py``), checked in-process with AppTest."""

from __future__ import annotations

import inspect
import tomllib
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from sloctl.cli.dashboard import dashboard_command
from sloctl.dashboard.access import check_access
from sloctl.settings import DashboardSettings, load_settings

ROOT = Path(__file__).resolve().parents[2]
PROXY = DashboardSettings(auth_header="X-Forwarded-Email", allowed_users=("cto@example.com",))


def test_the_repository_config_binds_streamlit_to_loopback() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"


def test_the_demo_launcher_binds_loopback() -> None:
    launcher = (ROOT / "sloctl" / "demo" / "run.py").read_text()
    assert '"sloctl.cli.main", "dashboard", "--port"' in launcher
    assert "--address" not in launcher
    # `sloctl dashboard` binds 127.0.0.1 unless told otherwise (tests/unit/test_cli_dashboard.py)
    assert inspect.signature(dashboard_command).parameters["address"].default == "127.0.0.1"


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Host": "127.0.0.1:8501"}, True),
        ({"Host": "localhost:8501"}, True),
        ({"Host": "[::1]:8501"}, True),
        ({"Host": "10.1.2.3:8501"}, False),
        ({"Host": "scorecard.example.com"}, False),
    ],
)
def test_without_a_login_only_loopback_visitors_are_served(
    headers: dict[str, str], allowed: bool
) -> None:
    verdict = check_access(headers, DashboardSettings())
    assert verdict.allowed is allowed
    if not allowed:
        assert "not on loopback, and has no login" in verdict.refused


def test_the_proxy_header_names_the_user_and_the_allow_list_decides() -> None:
    ok = check_access({"host": "x", "x-forwarded-email": "cto@example.com"}, PROXY)
    assert (ok.allowed, ok.user) == (True, "cto@example.com")
    other = check_access({"x-forwarded-email": "intern@example.com"}, PROXY)
    assert (other.allowed, other.refused) == (
        False, "intern@example.com is not in dashboard.allowed_users")
    missing = check_access({"host": "127.0.0.1"}, PROXY)
    assert not missing.allowed
    assert "no X-Forwarded-Email header" in missing.refused
    anyone = DashboardSettings(auth_header="X-Forwarded-User")
    assert check_access({"X-Forwarded-User": "bob"}, anyone).allowed


def test_settings_from_the_environment() -> None:
    settings = load_settings(env={
        "SLOCTL_DASHBOARD_AUTH_HEADER": "X-Forwarded-Email",
        "SLOCTL_DASHBOARD_ALLOWED_USERS": "a@example.com, b@example.com",
    })
    assert settings.dashboard == DashboardSettings(
        auth_header="X-Forwarded-Email", allowed_users=("a@example.com", "b@example.com"))


def test_the_page_shows_nothing_without_the_proxy_header(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLOCTL_STORE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    monkeypatch.setenv("SLOCTL_DASHBOARD_AUTH_HEADER", "X-Forwarded-Email")
    app = ROOT / "dashboard" / "app.py"
    page = AppTest.from_file(str(app), default_timeout=60).run()
    assert [e.value for e in page.error] == [
        "Not shown: sign in through the authenticating proxy: the request has no "
        "X-Forwarded-Email header."
    ]
    assert not page.metric and not page.dataframe
    assert not (tmp_path / "none.db").exists()
