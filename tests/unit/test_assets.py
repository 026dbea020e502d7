"""The packaged files (sloctl/assets): found through importlib.resources, in a checkout the
repository's own folders, listed and copied out by ``sloctl assets``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sloctl import assets
from sloctl.cli.main import app
from sloctl.errors import EXIT_USAGE

REPO = Path(__file__).resolve().parents[2]
IN_REPO = {"grafana": "grafana", "rules": "rules", "docs": "docs",
           "collector": "collector_config", "settings": "sloctl.example.yaml",
           "demo-specs": "sloctl/demo/specs"}


@pytest.fixture(autouse=True)
def no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in [n for n in os.environ if n.startswith("SLOCTL_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_every_asset_is_the_repository_folder_of_its_name() -> None:
    assert [a.name for a in assets.ASSETS] == list(IN_REPO)
    for name, where in IN_REPO.items():
        assert assets.path(name).resolve() == (REPO / where).resolve()
    assert assets.path("rules", "generated", "shop.yml").read_text() == \
        (REPO / "rules" / "generated" / "shop.yml").read_text()


def test_unknown_assets_and_missing_files_are_typed_errors() -> None:
    with pytest.raises(assets.AssetError, match="no asset 'nope': one of grafana, rules"):
        assets.path("nope")
    with pytest.raises(assets.AssetError, match="missing: the installation of sloctl"):
        assets.path("rules", "no-such.yml")


def test_sloctl_assets_lists_prints_and_copies(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["assets"], env={"COLUMNS": "300"})
    assert listed.exit_code == 0, listed.output
    for name in IN_REPO:
        assert f"{name} " in listed.output and str(assets.path(name)) in listed.output

    one = runner.invoke(app, ["assets", "grafana"])
    assert one.output.strip() == str(assets.path("grafana"))

    copied = runner.invoke(app, ["assets", "grafana", "--copy", "out/grafana"])
    assert copied.exit_code == 0, copied.output
    files = sorted(p.relative_to(tmp_path / "out/grafana").as_posix()
                   for p in (tmp_path / "out/grafana").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(REPO / "grafana").as_posix()
                           for p in (REPO / "grafana").rglob("*") if p.is_file())
    settings = runner.invoke(app, ["assets", "settings", "--copy", "sloctl.yaml"])
    assert settings.exit_code == 0
    assert (tmp_path / "sloctl.yaml").read_text() == (REPO / "sloctl.example.yaml").read_text()

    again = runner.invoke(app, ["assets", "grafana", "--copy", "out/grafana"])
    assert again.exit_code == EXIT_USAGE
    assert "out/grafana exists: name a new folder (nothing was copied)" in again.output
    unknown = runner.invoke(app, ["assets", "grafana2"])
    assert unknown.exit_code == EXIT_USAGE
