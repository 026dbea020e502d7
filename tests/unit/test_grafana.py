"""Grafana dashboards and provisioning: generated files up to date and equal to the SDK's typed
model of them (Grafana 11.6 schema), datasource variables instead of fixed uids, no forced default
datasource, time ranges, multi-select variables, calendar-month panels, links between dashboards,
variables and metric names that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template
from typing import Any

import pytest
import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard

from sloctl.grafana import model, panels
from sloctl.grafana.__main__ import main
from sloctl.grafana.dashboards import all_dashboards
from sloctl.grafana.files import DASHBOARD_DIR, render, stale_files
from sloctl.runtime.metrics import render_metrics
from tests.unit.test_dora_job import known_dora
from tests.unit.test_metrics import known_evaluation

REPO_ROOT = Path(__file__).resolve().parents[2]
GRAFANA = REPO_ROOT / "grafana"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "sloctl.yaml"
PROVIDERS = GRAFANA / "provisioning" / "dashboards" / "sloctl.yaml"
ENV_FILE = GRAFANA / "sloctl.env"
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range", "__url_time_range", "__all"}

BOARDS: dict[str, dict[str, Any]] = {
    p.name: json.loads(p.read_text()) for p in sorted(DASHBOARD_DIR.glob("*.json"))
}


def panels_of(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in board["panels"] if p["type"] != "row"]


def datasource_refs(board: dict[str, Any]) -> list[dict[str, str]]:
    refs = [v["datasource"] for v in board["templating"]["list"] if "datasource" in v]
    for p in board["panels"]:
        refs += [p["datasource"]] if "datasource" in p else []
        refs += [t["datasource"] for t in p.get("targets", [])]
    return refs


def link_urls(board: dict[str, Any]) -> list[str]:
    urls = [link["url"] for link in board["links"] if link["type"] == "link"]
    for p in board["panels"]:
        urls += [
            link["url"] for link in p.get("fieldConfig", {}).get("defaults", {}).get("links", [])
        ]
        urls += re.findall(r"\]\(([^)]+)\)", p.get("options", {}).get("content", ""))
    return urls


def env_defaults() -> dict[str, str]:
    lines = [ln for ln in ENV_FILE.read_text().splitlines() if ln and not ln.startswith("#")]
    return dict(ln.split("=", 1) for ln in lines)


def provisioned(path: Path) -> Any:
    """The provisioning file as Grafana reads it: $VAR expanded from the defaults, $$ -> $."""
    lines = [ln for ln in path.read_text().splitlines() if not ln.lstrip().startswith("#")]
    text = "\n".join(lines)
    assert not re.search(r"(?<!\$)\$\{\w+:-", text), f"{path}: Grafana has no ${{VAR:-default}}"
    return yaml.safe_load(Template(text).substitute(env_defaults()))


def prom_exprs(board: dict[str, Any]) -> list[str]:
    return [
        t["expr"]
        for p in board["panels"]
        for t in p.get("targets", [])
        if t["datasource"]["type"] == "prometheus"
    ]


def test_generated_dashboards_are_up_to_date() -> None:
    assert stale_files() == [], "regenerate with: python -m sloctl.grafana"
    assert sorted(BOARDS) == sorted(all_dashboards())
    for name, board in all_dashboards().items():
        assert render(board) == (DASHBOARD_DIR / name).read_text()


def test_dashboards_are_the_five_of_the_issues() -> None:
    titles = {b["uid"]: b["title"] for b in BOARDS.values()}
    assert titles == {
        "sloctl-golden-signals": "sloctl / Golden signals",
        "sloctl-slo-overview": "sloctl / SLO overview",
        "sloctl-slo": "sloctl / SLO error budget",
        "sloctl-alerts": "sloctl / Alerts and incidents",
        "sloctl-dora": "sloctl / DORA",
    }


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_has_the_fields_grafana_requires(name: str) -> None:
    board = BOARDS[name]
    assert name == f"{board['uid']}.json"
    assert re.fullmatch(r"[a-z0-9-]{1,40}", board["uid"])
    assert board["title"].startswith("sloctl / ")
    assert board["schemaVersion"] == 41  # Grafana 11.6
    assert isinstance(board["templating"]["list"], list)
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids)) and all(isinstance(i, int) and i > 0 for i in ids)
    assert len(panels_of(board)) >= 6
    cells: set[tuple[int, int]] = set()
    for p in board["panels"]:
        pos = p["gridPos"]
        assert set(pos) == {"h", "w", "x", "y"} and all(isinstance(v, int) for v in pos.values())
        assert pos["x"] >= 0 and pos["w"] > 0 and pos["x"] + pos["w"] <= 24 and pos["h"] > 0
        area = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"])
                for y in range(pos["y"], pos["y"] + pos["h"])}  # fmt: skip
        assert not cells & area, f"panel {p['id']} {p['title']!r} overlaps another"
        cells |= area
        assert p["title"]
        assert all(t["refId"] for t in p.get("targets", []))


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_equals_the_sdk_typed_model_of_it(name: str) -> None:
    """A schema check: Grafana 11.6's typed model drops unknown or misspelt dashboard and panel
    fields, so parsing the file and encoding it again must give the file back."""
    board = BOARDS[name]
    again = json.loads(json.dumps(Dashboard.from_json(board), cls=JSONEncoder))
    assert again == board
    broken = {**board, "panels": [{**board["panels"][0], "gridpos": {}}], "timepicker2": {}}
    assert json.loads(json.dumps(Dashboard.from_json(broken), cls=JSONEncoder)) != broken


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_panel_takes_its_datasource_from_a_variable(name: str) -> None:
    board = BOARDS[name]
    pickers = {v["name"]: v["query"] for v in board["templating"]["list"]
               if v["type"] == "datasource"}
    assert pickers["datasource"] == "prometheus"
    refs = datasource_refs(board)
    assert refs and all(re.fullmatch(r"\$\{\w+\}", r["uid"]) for r in refs)
    for ref in refs:
        assert pickers[ref["uid"][2:-1]] == ref["type"], ref
    assert "sloctl-prometheus" not in json.dumps(board)
    if name == "sloctl-golden-signals.json":
        assert pickers == {"datasource": "prometheus", "loki": "loki", "jaeger": "jaeger"}
    else:
        assert pickers == {"datasource": "prometheus"}


def test_provisioning_forces_no_default_datasource() -> None:
    sources = provisioned(DATASOURCES)["datasources"]
    assert [ds.get("isDefault", False) for ds in sources] == [False] * 4
    assert {ds["uid"]: ds["type"] for ds in sources} == {
        "sloctl-prometheus": "prometheus",
        "sloctl-alertmanager": "alertmanager",
        "sloctl-jaeger": "jaeger",
        "sloctl-loki": "loki",
    }


TIME_RANGES = {
    "sloctl-golden-signals.json": "now-6h",
    "sloctl-slo-overview.json": "now-28d",  # the budgets' period
    "sloctl-slo.json": "now-28d",
    "sloctl-alerts.json": "now-24h",
    "sloctl-dora.json": "now-30d",  # the figures cover the last 30 days
}


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_time_range_fits_the_dashboard(name: str) -> None:
    assert BOARDS[name]["time"] == {"from": TIME_RANGES[name], "to": "now"}


MULTI = {  # dashboard -> its service and SLO variables
    "sloctl-golden-signals.json": {"service"},
    "sloctl-slo-overview.json": {"service"},
    "sloctl-slo.json": {"service", "slo"},
    "sloctl-alerts.json": {"service"},
    "sloctl-dora.json": set(),
}


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_service_and_slo_variables_are_multi_select_with_all(name: str) -> None:
    board = BOARDS[name]
    queries = [v for v in board["templating"]["list"] if v["type"] == "query"]
    multi = {v["name"] for v in queries if v["multi"]}
    assert multi == MULTI[name]
    for var in queries:
        if var["name"] in multi:
            assert var["includeAll"] and var["allValue"] == ".*"
            assert var["current"] == {"text": "All", "value": "$__all"}
    text = json.dumps(board["panels"]) + json.dumps(board["templating"])
    for var in multi:  # a regex match, or Grafana's (a|b) and .* would match nothing
        assert f'=\\"${var}\\"' not in text and f'=~\\"${var}\\"' in text, var


@pytest.mark.parametrize("name", ["sloctl-slo-overview.json", "sloctl-slo.json"])
def test_calendar_month_panels_cover_this_month_so_far(name: str) -> None:
    panels = [p for p in panels_of(BOARDS[name]) if p.get("timeFrom")]
    assert [p["title"] for p in panels] == ["Error budget remaining this month", "SLI this month"]
    for p in panels:
        assert p["timeFrom"] == "now/M"
        (target,) = p["targets"]
        assert target["instant"] and "[$__range]" in target["expr"]
        assert 'sloth_slo_info{' in target["expr"]
        assert 'sloctl_window="calendar-month"' in target["expr"]


def test_datasource_urls_come_from_environment_variables() -> None:
    raw = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert {ds["uid"]: ds["url"] for ds in raw} == {
        "sloctl-prometheus": "$PROMETHEUS_URL",
        "sloctl-alertmanager": "$ALERTMANAGER_URL",
        "sloctl-jaeger": "$JAEGER_URL",
        "sloctl-loki": "$LOKI_URL",
    }
    expanded = {ds["uid"]: ds["url"] for ds in provisioned(DATASOURCES)["datasources"]}
    assert expanded == {
        "sloctl-prometheus": "http://127.0.0.1:9090",
        "sloctl-alertmanager": "http://127.0.0.1:9093",
        "sloctl-jaeger": "http://127.0.0.1:16686",
        "sloctl-loki": "http://127.0.0.1:3100",
    }
    loki = next(d for d in provisioned(DATASOURCES)["datasources"] if d["type"] == "loki")
    assert loki["jsonData"]["derivedFields"][0]["url"] == "${__value.raw}"  # $$ kept literal


def test_dashboard_provider_points_at_the_dashboards_folder() -> None:
    (provider,) = provisioned(PROVIDERS)["providers"]
    assert provider["type"] == "file"
    assert provider["folder"] == "sloctl"
    assert provider["options"]["path"] == env_defaults()["GRAFANA_DASHBOARDS_DIR"]
    assert yaml.safe_load(PROVIDERS.read_text())["providers"][0]["options"]["path"] == (
        "$GRAFANA_DASHBOARDS_DIR"
    )


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_links_reach_other_dashboards_and_the_scorecard(name: str) -> None:
    board = BOARDS[name]
    uids = {b["uid"] for b in BOARDS.values()}
    (tag_link,) = [lk for lk in board["links"] if lk["type"] == "dashboards"]
    assert tag_link["tags"] == ["sloctl"] and all(b["tags"] == ["sloctl"] for b in BOARDS.values())
    targets = set()
    for url in link_urls(board):
        if url.startswith("/d/"):
            uid = url[3:].split("?")[0]
            assert uid in uids, f"{url} links to an unknown dashboard"
            targets.add(uid)
    assert targets - {board["uid"]}, "link at least one other dashboard from a panel"
    assert "${scorecard}" in link_urls(board)
    (scorecard,) = [v for v in board["templating"]["list"] if v["name"] == "scorecard"]
    assert scorecard["query"] == "http://127.0.0.1:8501"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_queries_use_only_defined_variables(name: str) -> None:
    board = BOARDS[name]
    defined = {v["name"] for v in board["templating"]["list"]} | BUILTIN_VARIABLES
    text = json.dumps(board["panels"]) + json.dumps(board["templating"])
    used = set(re.findall(r"\$\{?(\w+)", text)) - {"__field", "__data", "__value"}
    assert used <= defined, f"undefined variables: {used - defined}"


def test_sloctl_series_in_dashboards_are_exported_by_metrics() -> None:
    text = render_metrics(known_evaluation(), known_dora()).decode()
    exported = set(re.findall(r"^(sloctl_\w+)", text, re.M))
    names = re.compile(r"\b(sloctl_\w+)\b(?!\s*=)")  # sloctl_window= is a label
    used = {m for b in BOARDS.values() for e in prom_exprs(b) for m in names.findall(e)}
    assert used and used <= exported


def test_recording_rules_in_dashboards_are_generated() -> None:
    """Names follow reference/slo.md 4.1 and exist in rules/generated when it is there."""
    sloth = {
        "slo:objective:ratio",
        "slo:error_budget:ratio",
        "slo:current_burn_rate:ratio",
        "slo:period_error_budget_remaining:ratio",
    }
    used = {
        m for b in BOARDS.values() for e in prom_exprs(b) for m in re.findall(r"slo:\w+:\w+", e)
    }
    # the window suffix is a regex; calendar-month panels average the 5m ratio
    assert used == sloth | {"slo:sli_error:ratio_rate", "slo:sli_error:ratio_rate5m"}
    generated = sorted((REPO_ROOT / "rules" / "generated").glob("*.yml"))
    records = {
        r["record"]
        for f in generated
        for g in yaml.safe_load(f.read_text())["groups"]
        for r in g["rules"]
        if "record" in r
    }
    if generated:
        assert sloth | {"sloth_slo_info"} <= records
        assert {f"slo:sli_error:ratio_rate{w}" for w in ("5m", "1h", "6h", "3d")} <= records


LAYOUT_CASES = [
    pytest.param([(12, 8), (12, 8), (24, 4)], [(0, 0), (12, 0), (0, 8)], id="two-halves-then-full"),
    pytest.param(
        [(6, 4), (6, 4), (6, 4), (6, 4), (8, 8)],
        [(0, 0), (6, 0), (12, 0), (18, 0), (0, 4)],
        id="four-stats-then-wrap",
    ),
    pytest.param([(8, 6), (8, 10), (12, 4)], [(0, 0), (8, 0), (0, 10)], id="wrap-below-tallest"),
]


@pytest.mark.parametrize(("sizes", "expected"), LAYOUT_CASES)
def test_layout_fills_rows_of_24_columns(
    sizes: list[tuple[int, int]], expected: list[tuple[int, int]]
) -> None:
    layout = model.Layout()
    assert [(p.x, p.y) for p in (layout.place(w, h) for w, h in sizes)] == expected


def test_board_numbers_panels_and_rows_take_a_full_line() -> None:
    board = model.Board("u", "t", "d", time_from="now-1h")
    board.add(panels.stat("a", []), 6, 4).row("r").add(panels.stat("b", []), 6, 4)
    placed = [(p["id"], p["type"], p["gridPos"]) for p in board.json()["panels"]]
    assert placed == [
        (1, "stat", {"h": 4, "w": 6, "x": 0, "y": 0}),
        (2, "row", {"h": 1, "w": 24, "x": 0, "y": 4}),
        (3, "stat", {"h": 4, "w": 6, "x": 0, "y": 5}),
    ]


def test_generator_cli_writes_and_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(BOARDS)
    assert main(["--check", str(tmp_path)]) == 0
    (tmp_path / "sloctl-alerts.json").write_text("{}")
    capsys.readouterr()
    assert main(["--check", str(tmp_path)]) == 1
    assert capsys.readouterr().out == (
        f"{tmp_path / 'sloctl-alerts.json'} is stale: run `python -m sloctl.grafana`\n"
    )


def test_dora_dashboard_shows_every_figure_of_the_selected_scope() -> None:
    board = BOARDS["sloctl-dora.json"]
    (scope,) = [v for v in board["templating"]["list"] if v["name"] == "scope"]
    assert scope["query"]["query"] == "label_values(sloctl_dora_sample_size, scope)"
    stats = {p["title"]: p["targets"][0]["expr"] for p in panels_of(board) if p["type"] == "stat"}
    assert stats == {
        "Deployment frequency": 'sloctl_dora_deployment_frequency_per_day{scope="$scope"}',
        "Lead time for changes (median)": (
            'sloctl_dora_lead_time_seconds{scope="$scope", quantile="0.5"}'
        ),
        "Change failure rate": 'sloctl_dora_change_failure_rate{scope="$scope"}',
        "Failed deployment recovery (median)": (
            'sloctl_dora_failed_deployment_recovery_time_seconds{scope="$scope", quantile="0.5"}'
        ),
        "Time to restore (median)": (
            'sloctl_dora_time_to_restore_seconds{scope="$scope", quantile="0.5"}'
        ),
        "Rework rate (beta)": 'sloctl_dora_rework_rate{scope="$scope"}',
    }
    goals = {
        p["title"]: p["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"]
        for p in panels_of(board)
        if p["type"] == "stat"
    }
    assert goals == {  # the house goals of the seed
        "Deployment frequency": 3.0,
        "Lead time for changes (median)": 3600.0,
        "Change failure rate": 0.03,
        "Failed deployment recovery (median)": 900.0,
        "Time to restore (median)": 900.0,
        "Rework rate (beta)": 0.1,
    }
