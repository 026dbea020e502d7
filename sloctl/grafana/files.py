"""Dashboard files: deterministic JSON rendering, writing, and staleness checks."""

from __future__ import annotations

import json
from pathlib import Path

from sloctl import assets
from sloctl.grafana.dashboards import all_dashboards
from sloctl.grafana.model import Json

# the packaged dashboards (in a checkout: the repository's grafana/dashboards, linked)
DASHBOARD_DIR = assets.path("grafana", "dashboards")


def render(board: Json) -> str:
    """Stable JSON text of one dashboard (2-space indent, trailing newline)."""
    return json.dumps(board, indent=2, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """Every dashboard file name with its text."""
    return {name: render(board) for name, board in all_dashboards().items()}


def write_dashboards(directory: Path = DASHBOARD_DIR) -> list[Path]:
    """Write every dashboard into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, body in rendered().items():
        path = directory / name
        path.write_text(body, encoding="utf-8")
        written.append(path)
    return written


def stale_files(directory: Path = DASHBOARD_DIR) -> list[str]:
    """Names of dashboard files that are missing or differ from the generator's output."""
    stale = []
    for name, body in rendered().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != body:
            stale.append(name)
    return stale
