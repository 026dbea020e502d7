"""Pure parts of the Loki and Prometheus deployment sources: selectors, queries, line bodies,
build-info version changes, step alignment, settings and the lead-time note."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sloctl.dora.deploy_events import DeployEventError
from sloctl.dora.deploy_sources import (
    LEAD_TIME_UNKNOWN,
    DeployImportJob,
    DeploySourceOff,
    _steps,
    build_info_query,
    lead_time_note,
    loki_event_body,
    version_changes,
)
from sloctl.dora.model import Deployment, DeployStatus
from sloctl.errors import SettingsError
from sloctl.settings import DeploySourceSettings, Settings, load_settings
from sloctl.sources.logql import deployment_lines, parse_stream_selector
from sloctl.sources.prometheus import RangeSeries
from sloctl.sources.promql import build_info_versions
from sloctl.spec.models import Matcher

T = 1_800_000_000.0  # a whole minute
AT = datetime.fromtimestamp(T, UTC)
MIN = timedelta(minutes=1)
SOURCES = DeploySourceSettings(prometheus_build_info="app_build_info")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{app="deployer"}', (Matcher("app", "=", "deployer"),)),
        (
            ' { app = "deployer" , env=~"prod|staging"} ',
            (Matcher("app", "=", "deployer"), Matcher("env", "=~", "prod|staging")),
        ),
        ('{msg!="a \\"quoted\\" \\\\ value"}', (Matcher("msg", "!=", 'a "quoted" \\ value'),)),
        ("{path!~`C:\\raw`}", (Matcher("path", "!~", "C:\\raw"),)),
    ],
    ids=["one", "spaces-and-regex", "escapes", "backticks"],
)
def test_parse_stream_selector(text: str, expected: tuple[Matcher, ...]) -> None:
    assert parse_stream_selector(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('app="deployer"', "enclosed in braces"),
        ("{}", "has no label matcher"),
        ('{app=="x"}', "cannot read the stream selector"),
        ('{app="x" | json}', "cannot read the stream selector"),
        ('{1app="x"}', "cannot read the stream selector"),
    ],
    ids=["no-braces", "empty", "double-equals", "pipeline", "bad-label"],
)
def test_parse_stream_selector_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_stream_selector(text)


def test_deployment_lines_re_escapes_the_selector() -> None:
    assert deployment_lines('{ app = "de\\"p" }') == '{app="de\\"p"}'


@pytest.mark.parametrize(
    ("metric", "labels", "expected"),
    [
        ("target_info", ["job", "service_version"], "max by (job, service_version) (target_info)"),
        (
            ".*_build_info",
            ["job", "version"],
            'max by (__name__, job, version) ({__name__=~".*_build_info"})',
        ),
        ('a"b', ["job"], 'max by (__name__, job) ({__name__=~"a\\"b"})'),
    ],
    ids=["name", "regex", "regex-escaped"],
)
def test_build_info_versions(metric: str, labels: list[str], expected: str) -> None:
    assert build_info_versions(metric, labels) == expected


def test_build_info_query_takes_the_configured_labels_once() -> None:
    sources = DeploySourceSettings(
        prometheus_build_info="target_info",
        version_label="service_version",
        commit_label="version",
        environment_label="deployment_environment",
    )
    assert build_info_query(sources) == (
        "max by (job, service_version, version, deployment_environment) (target_info)"
    )
    with pytest.raises(DeploySourceOff, match=r"dora\.sources\.prometheus_build_info"):
        build_info_query(DeploySourceSettings())


def series(start: int, end: int, **labels: str) -> RangeSeries:
    """Points at the steps ``start..end`` (minutes after T) of one series."""
    points = tuple((T + m * 60, 1.0) for m in range(start, end + 1))
    return RangeSeries({"job": "checkout", **labels}, points)


def deployed(version: str, minute: int, sha: str = "", **kw: Any) -> Deployment:
    return Deployment("checkout", "production", version, sha or version, AT + minute * MIN, **kw)


CASES = {
    "baseline-only": ([series(0, 9, version="1")], []),
    "one-change": (
        [series(0, 4, version="1"), series(5, 9, version="2")],
        [deployed("2", 5)],
    ),
    "overlap-during-rollout": (
        [series(0, 6, version="1"), series(5, 9, version="2")],
        [deployed("2", 5)],
    ),
    "rollback": (
        [series(0, 2, version="1"), series(3, 5, version="2"), series(6, 9, version="1")],
        [deployed("2", 3), deployed("1", 6)],
    ),
    "gap-same-version": (
        [series(0, 2, version="1"), series(6, 9, version="1")],
        [],
    ),
    "commit-labels": (
        [
            series(0, 2, version="1"),
            series(3, 9, version="2", revision="ABCDEF1", commit_time=str(T - 600)),
        ],
        [deployed("2", 3, "abcdef1", commit_time=AT - 10 * MIN)],
    ),
    "revision-not-a-sha": (
        [series(0, 2, version="1"), series(3, 9, version="2", revision="main")],
        [deployed("2", 3)],
    ),
    "environment-label": (
        [series(0, 2, version="1", env="staging"), series(3, 9, version="2", env="staging")],
        [Deployment("checkout", "staging", "2", "2", AT + 3 * MIN, DeployStatus.SUCCESS)],
    ),
}


@pytest.mark.parametrize(("given", "expected"), CASES.values(), ids=CASES.keys())
def test_version_changes(given: list[RangeSeries], expected: list[Deployment]) -> None:
    labels = {"environment_label": "env", "commit_time_label": "commit_time"}
    assert version_changes(given, SOURCES.model_copy(update=labels)) == (expected, [])


def test_version_changes_reports_unusable_series() -> None:
    given = [
        series(0, 9),
        series(0, 9, version="1", commit_time="yesterday"),
        RangeSeries({"version": "1"}, ((T, 1.0),)),
    ]
    events, bad = version_changes(
        given, SOURCES.model_copy(update={"commit_time_label": "commit_time"})
    )
    assert events == []
    assert [b.reason for b in bad] == [
        "series {'job': 'checkout'} has no version label; set dora.sources.*_label",
        "checkout 1: commit time label 'yesterday' is not a timestamp",
        "series {'version': '1'} has no job label; set dora.sources.*_label",
    ]


def test_steps_are_aligned_and_chunked() -> None:
    since = AT + timedelta(seconds=59)
    assert _steps(since, AT + 3 * MIN + timedelta(seconds=1), 60) == [(AT, AT + 3 * MIN)]
    chunks = _steps(AT, AT + timedelta(seconds=60 * 25_000), 60)
    assert [(a - AT, b - AT) for a, b in chunks] == [
        (timedelta(0), 9_999 * MIN),
        (10_000 * MIN, 19_999 * MIN),
        (20_000 * MIN, 25_000 * MIN),
    ]


LABELS = {"service_name": "checkout", "env": "prod"}


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '{"service": "cart", "environment": "staging", "version": "1", "level": "info"}',
            {"service": "cart", "environment": "staging", "version": "1"},
        ),
        ('{"version": "1"}', {"version": "1", "service": "checkout", "environment": "prod"}),
        (
            '{"deployment_status": {"state": "success"}, "x": 1}',
            {"deployment_status": {"state": "success"}, "x": 1},
        ),
    ],
    ids=["body-wins-extra-dropped", "labels-fill-in", "github-kept-whole"],
)
def test_loki_event_body(line: str, expected: dict[str, Any]) -> None:
    env = DeploySourceSettings(environment_label="env")
    assert loki_event_body(line, LABELS, "service_name", env) == expected


def test_loki_event_body_default_environment_and_bad_lines() -> None:
    body = loki_event_body('{"version": "1"}', {"app": "x"}, "service_name", SOURCES)
    assert body == {"version": "1", "environment": "production"}
    with pytest.raises(DeployEventError, match="<line>: is not JSON"):
        loki_event_body("deployed v1", {}, "service_name", SOURCES)
    with pytest.raises(DeployEventError, match="<line>: must be a JSON object"):
        loki_event_body("[1, 2]", {}, "service_name", SOURCES)


def test_settings_read_and_check_the_sources(tmp_path: Any) -> None:
    path = tmp_path / "sloctl.yaml"
    path.write_text(
        "dora:\n  sources:\n    loki_selector: ' {app = \"deployer\"}'\n"
        "    prometheus_build_info: target_info\n    version_label: service_version\n"
    )
    sources = load_settings(path, env={}).dora.sources
    assert sources.loki_selector == '{app = "deployer"}'  # checked; queries re-escape it
    assert deployment_lines(sources.loki_selector) == '{app="deployer"}'
    assert (sources.prometheus_build_info, sources.version_label) == (
        "target_info",
        "service_version",
    )
    path.write_text("dora:\n  sources:\n    loki_selector: 'app=deployer'\n")
    with pytest.raises(SettingsError, match=r"dora\.sources\.loki_selector.*enclosed in braces"):
        load_settings(path, env={})


def test_lead_time_note() -> None:
    assert lead_time_note({"deployments_without_commit_time": 0}) is None
    note = lead_time_note({"deployments_without_commit_time": 3})
    assert note is not None and note.startswith(f"{LEAD_TIME_UNKNOWN} (or a GitHub")
    assert "for 3 deployment(s)" in note


def test_import_job_does_nothing_when_no_source_is_on() -> None:
    job = DeployImportJob(Settings(), store=None, clock=lambda: AT)  # type: ignore[arg-type]
    assert job.maybe_run() is None
    assert job.last_run is None
