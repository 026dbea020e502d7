"""400 with the field, never 500: every endpoint of ``sloctl serve``, fuzzed from its OpenAPI
description (schemathesis' positive and negative cases), plus the bodies that used to answer 500.

A real ``HttpServer`` on loopback over a SQLite store. Every answer must be below 500, and a
rejected request must store nothing. ``FUZZ_EXAMPLES`` sets the number of generated requests
(default 300; the acceptance run is ``FUZZ_EXAMPLES=10000``).
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from sloctl.runtime.http import HttpServer, create_app, openapi_description
from sloctl.settings import Settings
from sloctl.store import Store

TOKEN = "fuzz-token-1234"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
TABLES = ("am_notifications", "am_alerts", "deployments")
FIRING = {
    "version": "4", "groupKey": "{}:{alertname=\"HighErrors\"}", "status": "firing",
    "receiver": "sloctl", "truncatedAlerts": 0,
    "alerts": [{
        "status": "firing", "labels": {"alertname": "HighErrors", "service": "order"},
        "startsAt": "2026-11-27T08:37:37Z", "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": "ebb1fe80b92a0f50",
    }],
}
DEPLOYMENT = {
    "service": "order", "environment": "production", "version": "v1.2.3",
    "commit_sha": "3f2a9c1d", "commit_time": "2026-11-27T08:00:00Z",
    "finished_at": "2026-11-27T09:00:00Z", "status": "success",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    db = tmp_path_factory.mktemp("fuzz") / "fuzz.db"
    settings = Settings.model_validate({
        "store_url": f"sqlite:///{db}", "receiver": {"port": 0, "token": TOKEN},
    })
    store = Store(settings.store_url)
    server = HttpServer(settings, store).start()
    try:
        yield server.url, db
    finally:
        server.stop()
        store.close()


def counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES}


def post(url: str, path: str, body: Any, raw: bytes | None = None) -> httpx.Response:
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.post(f"{url}{path}", content=content, headers=AUTH, timeout=10)


class RawJSON(bytes):
    """JSON text sent as is (what json.dumps refuses or recurses on)."""


def nested(depth: int) -> RawJSON:
    return RawJSON(b'{"x":' * depth + b"{}" + b"}" * depth)


def mutated(base: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(base)
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


STARTS = ("alerts", 0, "startsAt")
WEBHOOK_CASES = {
    "truncated 1e30": mutated(FIRING, ("truncatedAlerts",), 1e30),
    "truncated -1": mutated(FIRING, ("truncatedAlerts",), -1),
    "year 1 with offset": mutated(FIRING, STARTS, "0001-01-01T00:00:00+01:00"),
    "year 9999 with offset": mutated(FIRING, STARTS, "9999-12-31T23:59:59-01:00"),
    "year 1 UTC start": mutated(FIRING, STARTS, "0001-01-01T00:00:00Z"),
    "before 2000": mutated(FIRING, STARTS, "1999-12-31T23:59:59Z"),
    "far future": mutated(FIRING, STARTS, "2999-01-01T00:00:00Z"),
    "deep nesting": mutated(FIRING, ("alerts", 0, "labels"), nested(1000)),
    "wrong type": mutated(FIRING, ("alerts",), "many"),
    "NUL in a label": mutated(FIRING, ("alerts", 0, "labels", "service"), "or\x00der"),
    "huge integer": mutated(FIRING, ("truncatedAlerts",), RawJSON(b"1" + b"0" * 5000)),
}
DEPLOY_CASES = {
    "year 1 with offset": mutated(DEPLOYMENT, ("finished_at",), "0001-01-01T00:00:00+01:00"),
    "year 9999 with offset": mutated(DEPLOYMENT, ("commit_time",), "9999-12-31T23:59:59-01:00"),
    "before 2000": mutated(DEPLOYMENT, ("commit_time",), "1970-01-01T00:00:00Z"),
    "deep nesting": nested(1000),
    "deep list": {"commits": [[[[[[]]]]]] * 3},
    "wrong type": mutated(DEPLOYMENT, ("commits",), {"sha": 1}),
    "NUL": mutated(DEPLOYMENT, ("version",), "v1\x00"),
    "huge integer": mutated(DEPLOYMENT, ("version",), RawJSON(b"1" + b"0" * 5000)),
    "lone surrogate": RawJSON(json.dumps(DEPLOYMENT).replace("v1.2.3", "\\ud800").encode()),
    "github year 1": {
        "deployment_status": {"state": "success", "created_at": "0001-01-01T00:00:00+01:00"},
        "deployment": {"sha": "3f2a9c1d", "environment": "production",
                       "created_at": "2026-11-27T08:00:00Z",
                       "payload": {"commit_time": "0001-01-01T00:00:00+05:00"}},
        "repository": {"name": "order"},
    },
    "github huge payload": {
        "deployment_status": {"state": "success", "created_at": "2026-11-27T09:00:00Z"},
        "deployment": {"sha": "3f2a9c1d", "environment": "production",
                       "created_at": "2026-11-27T08:00:00Z",
                       "payload": {"version": "v" * 10_000, "service": {"a": 1}}},
        "repository": {"name": "order"},
    },
}


def raw_json(body: Any) -> bytes:
    """JSON text of ``body``, its ``RawJSON`` parts as they are."""
    if isinstance(body, RawJSON):
        return bytes(body)
    if isinstance(body, dict):
        return b"{" + b",".join(json.dumps(k).encode() + b":" + raw_json(v)
                                for k, v in body.items()) + b"}"
    if isinstance(body, list):
        return b"[" + b",".join(raw_json(v) for v in body) + b"]"
    return json.dumps(body).encode()


@pytest.mark.parametrize(("name", "body"), list(WEBHOOK_CASES.items()), ids=list(WEBHOOK_CASES))
def test_bad_webhook_bodies_are_400_and_store_nothing(
    served: tuple[str, Path], name: str, body: Any
) -> None:
    url, db = served
    before = counts(db)
    answer = post(url, "/api/v1/alertmanager", None, raw=raw_json(body))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"].startswith("invalid Alertmanager webhook body")
    assert counts(db) == before


@pytest.mark.parametrize(("name", "body"), list(DEPLOY_CASES.items()), ids=list(DEPLOY_CASES))
def test_bad_deployments_are_400_with_the_field_and_store_nothing(
    served: tuple[str, Path], name: str, body: Any
) -> None:
    url, db = served
    before = counts(db)
    answer = post(url, "/api/v1/deployments", None, raw=raw_json(body))
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"]
    assert counts(db) == before


def test_year_1_timestamps_name_the_field(served: tuple[str, Path]) -> None:
    url, _ = served
    answer = post(url, "/api/v1/deployments", DEPLOY_CASES["year 1 with offset"])
    assert answer.json()["field"] == "finished_at"
    assert "outside the plausible range" in answer.json()["error"]
    answer = post(url, "/api/v1/alertmanager", WEBHOOK_CASES["year 1 with offset"])
    assert "alerts[0].startsAt" in answer.json()["error"]


def test_duplicate_deliveries_do_not_grow_the_store(served: tuple[str, Path]) -> None:
    url, db = served
    body = mutated(FIRING, ("groupKey",), "duplicates")
    body = mutated(body, ("alerts", 0, "fingerprint"), "0123456789abcdef")
    assert post(url, "/api/v1/alertmanager", body).status_code == 200
    after_first = counts(db)
    for _ in range(5):
        assert post(url, "/api/v1/alertmanager", body).json()["repeated"] == 1
    assert post(url, "/api/v1/deployments", DEPLOYMENT).status_code in (200, 201)
    after_deploy = counts(db)
    assert post(url, "/api/v1/deployments", DEPLOYMENT).status_code == 200
    assert counts(db) == after_deploy
    assert counts(db)["am_notifications"] == after_first["am_notifications"]


def test_every_endpoint_fuzzed_from_its_openapi_description(served: tuple[str, Path]) -> None:
    url, db = served
    store = Store(f"sqlite:///{db}")
    try:
        description = openapi_description(create_app(Settings(), store))
    finally:
        store.close()
    schema = schemathesis.openapi.from_dict(description)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/alertmanager", "/api/v1/deployments",
                                               "/metrics", "/healthz", "/readyz"}
    strategy = st.one_of([
        op.as_strategy(generation_mode=mode)
        for op in operations
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ])
    session = requests.Session()
    seen: dict[int, int] = {}

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def one_request(case: Any) -> None:
        before = counts(db)
        answer = case.call(base_url=url, session=session, headers=dict(AUTH), timeout=10)
        seen[answer.status_code] = seen.get(answer.status_code, 0) + 1
        # /readyz answers 503 by design while not ready (runtime.readiness); never otherwise
        not_ready = case.path == "/readyz" and answer.status_code == 503
        assert answer.status_code < 500 or not_ready, (case.method, case.path, case.body,
                                                       answer.text)
        if answer.status_code >= 400:
            assert counts(db) == before, (case.method, case.path, case.body)

    try:
        one_request()
    finally:
        session.close()
    assert sum(seen.values()) >= min(EXAMPLES, 100)
    assert any(code == 400 for code in seen)  # negative cases reached the validation
