"""The ``jaeger`` settings section and SLOCTL_JAEGER_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from sloctl.errors import SettingsError
from sloctl.settings import load_settings


def test_defaults_point_at_local_jaeger_with_ui_on_the_same_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./sloctl.yaml
    jaeger = load_settings(env={}).jaeger
    assert (jaeger.url, jaeger.timeout_seconds, jaeger.ui_url) == (
        "http://127.0.0.1:16686",
        10.0,
        None,
    )
    assert jaeger.effective_ui_url == "http://127.0.0.1:16686"


def test_env_overrides_the_file(tmp_path: Path) -> None:
    config = tmp_path / "sloctl.yaml"
    config.write_text(
        "jaeger:\n  url: http://127.0.0.1:1111\n  ui_url: https://jaeger.example.org/\n"
        "  timeout_seconds: 2.5\n"
    )
    jaeger = load_settings(config, env={"SLOCTL_JAEGER_URL": "http://127.0.0.1:2222/"}).jaeger
    assert (jaeger.url, jaeger.timeout_seconds) == ("http://127.0.0.1:2222", 2.5)
    assert jaeger.effective_ui_url == "https://jaeger.example.org"


def test_bad_url_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match="SLOCTL_JAEGER_URL") as caught:
        load_settings(env={"SLOCTL_JAEGER_URL": "localhost:16686"})
    assert "http(s) URL" in str(caught.value)
