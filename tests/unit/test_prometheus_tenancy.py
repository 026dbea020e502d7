"""Multi-tenant and scale-out Prometheus backends (issue 15): the tenant header (Mimir, Cortex,
Thanos receive) and Thanos' partial_response, as settings and as what goes on the wire."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.errors import BackendQueryError, SettingsError
from sloctl.settings import PrometheusSettings, load_settings
from sloctl.sources.prometheus import PrometheusSource
from tests.support.streaming_prometheus import Answer, Seen, StreamingPrometheus


def refused(env: dict[str, str], tmp_path: Path | None = None, yaml: str | None = None) -> str:
    """The settings error for ``env`` (and a settings file holding ``yaml``)."""
    path = None
    if yaml is not None:
        assert tmp_path is not None
        path = tmp_path / "sloctl.yaml"
        path.write_text(yaml)
    with pytest.raises(SettingsError) as info:
        load_settings(path, env=env)
    return str(info.value)


# --- settings ---


def test_tenant_defaults_to_the_mimir_header_and_nothing_is_sent_without_one() -> None:
    p = load_settings(env={}).prometheus
    assert (p.tenant, p.tenant_header, p.partial_response) == (None, "X-Scope-OrgID", None)
    assert p.request_headers == {}
    assert p.query_params == {}


def test_tenant_and_partial_response_from_the_environment() -> None:
    p = load_settings(env={
        "SLOCTL_PROMETHEUS_TENANT": "team-a|team-b",
        "SLOCTL_PROMETHEUS_TENANT_HEADER": "THANOS-TENANT",
        "SLOCTL_PROMETHEUS_PARTIAL_RESPONSE": "false",
        "SLOCTL_PROMETHEUS_BEARER_TOKEN": "tok",
    }).prometheus
    assert p.request_headers == {"Authorization": "Bearer tok", "THANOS-TENANT": "team-a|team-b"}
    assert p.query_params == {"partial_response": "false"}
    assert load_settings(env={"SLOCTL_PROMETHEUS_PARTIAL_RESPONSE": "true"}).prometheus \
        .query_params == {"partial_response": "true"}


@pytest.mark.parametrize("tenant", ["team-a\r\nX-Evil: 1", "team a", "a\x00b"])
def test_a_tenant_with_a_line_break_space_or_control_character_is_refused(tenant: str) -> None:
    message = refused({"SLOCTL_PROMETHEUS_TENANT": tenant})
    assert message.startswith(
        "invalid settings:\n  SLOCTL_PROMETHEUS_TENANT (prometheus.tenant): invalid tenant "
        f"{tenant!r}; use the tenant id without spaces"
    )
    assert message.endswith("; fix or unset the variable")


@pytest.mark.parametrize("header", ["X Scope", "X-Scope-OrgID\r\n", "Authorization", "ä"])
def test_a_tenant_header_that_is_not_a_header_name_is_refused(header: str) -> None:
    message = refused({"SLOCTL_PROMETHEUS_TENANT": "team-a",
                       "SLOCTL_PROMETHEUS_TENANT_HEADER": header})
    assert message.startswith(
        "invalid settings:\n  SLOCTL_PROMETHEUS_TENANT_HEADER (prometheus.tenant_header): "
        f"{header!r} is not a usable tenant header name"
    )


def test_an_empty_tenant_header_in_the_file_is_refused(tmp_path: Path) -> None:
    message = refused({}, tmp_path, "prometheus: {tenant: team-a, tenant_header: ''}\n")
    assert f"{tmp_path / 'sloctl.yaml'}:1: prometheus.tenant_header: '' is not a usable" in message


def test_the_tenant_header_also_in_headers_is_a_conflict_naming_both(tmp_path: Path) -> None:
    message = refused(
        {}, tmp_path, "prometheus:\n  tenant: team-a\n  headers: {x-scope-orgid: team-b}\n"
    )
    assert message == (
        f"invalid settings:\n  {tmp_path / 'sloctl.yaml'}:1: prometheus: prometheus.tenant_header "
        "(X-Scope-OrgID) is also set in prometheus.headers (x-scope-orgid); send the tenant "
        "once: remove x-scope-orgid from prometheus.headers, or unset prometheus.tenant"
    )


def test_a_tenant_header_without_a_tenant_is_refused() -> None:
    message = refused({"SLOCTL_PROMETHEUS_TENANT_HEADER": "THANOS-TENANT"})
    assert "tenant_header is set but tenant is not" in message
    assert "set prometheus.tenant (SLOCTL_PROMETHEUS_TENANT)" in message


def test_partial_response_must_be_a_boolean() -> None:
    message = refused({"SLOCTL_PROMETHEUS_PARTIAL_RESPONSE": "maybe"})
    assert message.startswith(
        "invalid settings:\n  SLOCTL_PROMETHEUS_PARTIAL_RESPONSE (prometheus.partial_response):"
    )


# --- on the wire: a loopback Prometheus that records every request ---

AT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BODIES: dict[str, object] = {
    "/api/v1/query": {"resultType": "vector",
                      "result": [{"metric": {"service_name": "checkout"}, "value": [1, "2"]}]},
    "/api/v1/query_range": {"resultType": "matrix",
                            "result": [{"metric": {"job": "a"}, "values": [[1, "1"], [2, "3"]]}]},
    "/api/v1/labels": ["__name__", "job"],
    "/api/v1/label/job/values": ["a", "b"],
    "/api/v1/series": [{"__name__": "up", "job": "a"}],
    "/api/v1/metadata": {"up": [{"type": "gauge", "help": "Up.", "unit": ""}]},
}


def envelope(data: object, warnings: list[str] | None = None) -> bytes:
    doc: dict[str, object] = {"status": "success", "data": data}
    if warnings is not None:
        doc["warnings"] = warnings
    return json.dumps(doc).encode()


def by_path(warnings: list[str] | None = None) -> Callable[[Seen], Answer]:
    """Each API path's answer (a fresh one per request), with ``warnings`` in its envelope."""
    return lambda seen: Answer([envelope(BODIES[seen.path], warnings)])


def source(url: str, **settings: object) -> PrometheusSource:
    return PrometheusSource(PrometheusSettings.model_validate({"url": url, **settings}))


def every_kind(src: PrometheusSource) -> dict[str, object]:
    """One request of each kind sloctl sends (eval, discover, validate --live, reports)."""
    match = ['{__name__="up"}']
    return {
        "query": src.query("up", AT),
        "query_many": src.query_many(["up", "sum(up)"], AT),
        "query_range": src.query_range("up", AT - timedelta(hours=1), AT, 60),
        "labels": src.label_names(match, AT - timedelta(hours=1), AT),
        "label_values": src.label_values("job", match, AT - timedelta(hours=1), AT),
        "series": src.series(match, AT - timedelta(hours=1), AT),
        "metadata": src.metadata("up"),
    }


def test_every_request_kind_carries_the_tenant_header_and_partial_response() -> None:
    with StreamingPrometheus(route=by_path()) as fake:
        src = source(fake.url, tenant="team-a", tenant_header="THANOS-TENANT",
                     partial_response=False, headers={"X-Extra": "1"}, bearer_token="tok")
        try:
            answers = every_kind(src)
        finally:
            src.close()
    assert answers["series"] == [{"__name__": "up", "job": "a"}]
    assert answers["label_values"] == ["a", "b"]
    assert sorted(s.path for s in fake.seen) == sorted([
        "/api/v1/query", "/api/v1/query", "/api/v1/query", "/api/v1/query_range",
        "/api/v1/labels", "/api/v1/label/job/values", "/api/v1/series", "/api/v1/metadata",
    ])
    for seen in fake.seen:
        assert seen.headers["THANOS-TENANT"] == "team-a", seen.path
        assert "X-Scope-OrgID" not in seen.headers
        assert (seen.headers["X-Extra"], seen.headers["Authorization"]) == ("1", "Bearer tok")
        assert seen.query["partial_response"] == ["false"], seen.path
    labels = next(s for s in fake.seen if s.path == "/api/v1/labels")
    assert labels.query["match[]"] == ['{__name__="up"}']  # the call's own parameters are kept
    assert next(s for s in fake.seen if s.path == "/api/v1/metadata").query["metric"] == ["up"]


def test_partial_response_true_is_sent_as_true() -> None:
    with StreamingPrometheus(route=by_path()) as fake:
        src = source(fake.url, partial_response=True)
        try:
            src.query("up", AT)
            src.metadata("up")
        finally:
            src.close()
    assert [s.query["partial_response"] for s in fake.seen] == [["true"], ["true"]]


def test_unset_settings_leave_the_requests_unchanged() -> None:
    with StreamingPrometheus(route=by_path()) as fake:
        src = source(fake.url)
        try:
            every_kind(src)
        finally:
            src.close()
    query = next(s for s in fake.seen if s.path == "/api/v1/query")
    assert sorted(query.query) == ["query", "time", "timeout"]
    for seen in fake.seen:
        assert "partial_response" not in seen.query
        assert not {"x-scope-orgid", "thanos-tenant"} & {h.lower() for h in seen.headers}


THANOS_WARNING = "receive-1:10901: rpc error: code = Unavailable desc = connection refused"


def test_an_answer_with_warnings_is_not_used_and_says_why() -> None:
    with StreamingPrometheus(route=by_path([THANOS_WARNING])) as fake:
        src = source(fake.url)
        try:
            with pytest.raises(BackendQueryError) as info:
                src.query("sum(up)", AT)
        finally:
            src.close()
    error = info.value
    assert (error.status, error.error_type, error.query) == (200, "warnings", "sum(up)")
    assert str(error) == (
        "prometheus: the answer came with warnings, so it may be partial (stores or tenants "
        f"missing) and its values are unknown this cycle: {THANOS_WARNING}; on Thanos, set "
        "prometheus.partial_response (SLOCTL_PROMETHEUS_PARTIAL_RESPONSE) to false so that "
        "such a query fails instead of answering from the stores it reached"
    )


def test_warnings_refuse_every_request_kind_and_name_the_setting_in_force() -> None:
    with StreamingPrometheus(route=by_path(["w1", "w2", "w3", "w4"])) as fake:
        src = source(fake.url, partial_response=True)
        try:
            calls: list[Callable[[], object]] = [
                lambda: src.query("up", AT),
                lambda: src.query_range("up", AT - timedelta(hours=1), AT, 60),
                lambda: src.label_names(["up"], AT, AT),
                lambda: src.label_values("job", ["up"], AT, AT),
                lambda: src.series(["up"], AT, AT),
                lambda: src.metadata("up"),
            ]
            errors = []
            for call in calls:
                with pytest.raises(BackendQueryError) as info:
                    call()
                errors.append(str(info.value))
        finally:
            src.close()
    assert len(errors) == 6
    for text in errors:
        assert "values are unknown this cycle: w1; w2; w3 (and 1 more); " in text
        assert text.endswith(
            "prometheus.partial_response (SLOCTL_PROMETHEUS_PARTIAL_RESPONSE) is true, so "
            "Thanos answers from the stores it reached; check the stores the warnings name, "
            "or set it to false"
        )


def test_only_the_warned_query_of_a_batch_is_unknown() -> None:
    def route(seen: Seen) -> Answer:
        warned = seen.query["query"] == ["sum(rate(errors[5m]))"]
        return Answer([envelope(BODIES["/api/v1/query"], [THANOS_WARNING] if warned else None)])

    with StreamingPrometheus(route=route) as fake:
        src = source(fake.url, partial_response=False)
        try:
            results = src.query_many(["sum(rate(errors[5m]))", "sum(rate(requests[5m]))"], AT)
        finally:
            src.close()
    warned, fine = results["sum(rate(errors[5m]))"], results["sum(rate(requests[5m]))"]
    assert isinstance(warned, BackendQueryError) and warned.error_type == "warnings"
    assert str(warned).endswith(f": {THANOS_WARNING}; check the stores or tenants the "
                                "warnings name")
    assert isinstance(fine, list) and [s.value for s in fine] == [2.0]


@pytest.mark.parametrize(("body", "value"), [
    # a label value "warnings" holds the marker: the envelope is read, and has none
    (envelope({"resultType": "vector",
               "result": [{"metric": {"level": "warnings"}, "value": [1, "5"]}]}), 5.0),
    (envelope(BODIES["/api/v1/query"], []), 2.0),  # an empty list is no warning
    # an info annotation, as Prometheus 2 sent them among the warnings, says nothing of the data
    (envelope(BODIES["/api/v1/query"], ['PromQL info: metric might not be a counter, name does '
                                        'not end in _total/_sum/_count/_bucket: "queue_size"']),
     2.0),
])
def test_answers_without_warnings_are_used(body: bytes, value: float) -> None:
    with StreamingPrometheus(Answer([body])) as fake:
        src = source(fake.url)
        try:
            samples = src.query("up", AT)
        finally:
            src.close()
    assert [s.value for s in samples] == [value]


# --- end to end: one `sloctl eval` cycle against the fake ---

SPECS = Path(__file__).resolve().parents[2] / "sloctl" / "demo" / "specs"


def eval_against(
    fake: StreamingPrometheus, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Result:
    monkeypatch.chdir(tmp_path)  # no sloctl.yaml
    for name in [n for n in os.environ if n.startswith(("SLOCTL_", "OTEL_"))]:
        monkeypatch.delenv(name)
    for name, value in {
        "PROMETHEUS_URL": fake.url, "PROMETHEUS_TENANT": "team-a",
        "PROMETHEUS_PARTIAL_RESPONSE": "false", "SPECS": str(SPECS),
        "STORE_URL": f"sqlite:///{tmp_path / 'sloctl.db'}",
    }.items():
        monkeypatch.setenv(f"SLOCTL_{name}", value)
    return CliRunner().invoke(app, ["eval", "-q", "--at", "2026-11-20T12:00:00Z",
                                    "--output", "json"])


def test_every_query_of_an_eval_cycle_carries_the_tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StreamingPrometheus(route=by_path()) as fake:
        ran = eval_against(fake, tmp_path, monkeypatch)
    doc = json.loads(ran.stdout)
    assert ran.exit_code == 0, ran.output
    assert len(fake.seen) == doc["query_count"] > 10
    for seen in fake.seen:
        assert seen.headers["X-Scope-OrgID"] == "team-a", seen.query
        assert seen.query["partial_response"] == ["false"], seen.query


def test_a_warned_answer_in_a_cycle_is_its_problem_and_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with StreamingPrometheus(route=by_path([THANOS_WARNING])) as fake:
        ran = eval_against(fake, tmp_path, monkeypatch)
    doc = json.loads(ran.stdout)
    assert ran.exit_code == 3, ran.output
    warned = [p for p in doc["problems"] if "came with warnings" in p]
    assert warned == [
        "prometheus: the answer came with warnings, so it may be partial (stores or tenants "
        f"missing) and its values are unknown this cycle: {THANOS_WARNING}; check the stores "
        "or tenants the warnings name"
    ]
    assert doc["slos"] and all(s["sli"] is None for s in doc["slos"])  # none from a partial answer


def test_the_example_settings_tenant_lines_load_when_uncommented(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "sloctl.example.yaml"
    keys = ("  # tenant:", "  # tenant_header:", "  # partial_response:")
    lines = [line.replace("# ", "", 1) if line.startswith(keys) else line
             for line in example.read_text().splitlines()]
    (tmp_path / "sloctl.yaml").write_text("\n".join(lines) + "\n")
    p = load_settings(tmp_path / "sloctl.yaml", env={}).prometheus
    assert (p.tenant, p.tenant_header, p.partial_response) == ("team-a", "X-Scope-OrgID", False)
