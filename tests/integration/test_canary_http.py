"""``GET /api/v1/canary`` and the Flagger webhook on a real HTTP server over the ground-truth
Prometheus of test_canary_truth, read the way Argo Rollouts' web provider and Flagger read them.

The AnalysisTemplate and the Canary are the ones in docs/canary.md: its URL template, JSON path
and conditions are applied to the real answers (Argo: a JSON path to a number or a boolean, then
``result == <literal>``; both conditions false is Inconclusive).
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.runtime.http import HttpServer
from sloctl.settings import load_settings
from sloctl.store import Store
from tests.integration.test_canary_truth import SPECS, M, prometheus, start  # noqa: F401

pytestmark = pytest.mark.integration
DOCS = Path(__file__).resolve().parents[2] / "docs" / "canary.md"
TOKEN = "canary-test-token"


def documented(kind: str) -> dict[str, Any]:
    """The YAML block of docs/canary.md holding ``kind``."""
    blocks = re.findall(r"```yaml\n(.*?)```", DOCS.read_text(), re.S)
    return next(yaml.safe_load(b) for b in blocks if f"kind: {kind}" in b)


@pytest.fixture(scope="module")
def server(prometheus: PrometheusServer,  # noqa: F811
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[HttpServer]:
    root = tmp_path_factory.mktemp("canary-http")
    (root / "specs.yaml").write_text(SPECS)
    settings = load_settings(None, {
        "SLOCTL_PROMETHEUS_URL": prometheus.url, "SLOCTL_STORE_URL": f"sqlite:///{root / 's.db'}",
        "SLOCTL_SPECS": str(root / "specs.yaml"), "SLOCTL_RECEIVER_TOKEN": TOKEN,
        "SLOCTL_RECEIVER_PORT": "0",
    })
    with Store(settings.store_url) as store, HttpServer(settings, store) as http:
        yield http


def call(url: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def json_path(path: str, document: Any) -> Any:
    """Argo's ``{$.a.b}``."""
    value = document
    for part in path.removeprefix("{$").removesuffix("}").strip(".").split("."):
        value = value[part] if part else value
    return value


def holds(condition: str, result: Any) -> bool:
    """``result == <number | true | false>``, as Argo's expressions compare them."""
    literal = condition.removeprefix("result ==").strip()
    expected = {"true": True, "false": False}.get(literal)
    if expected is None:
        return isinstance(result, int | float) and not isinstance(result, bool) \
            and result == float(literal)
    return result is expected


def argo_phase(metric: dict[str, Any], body: Any) -> str:
    result = json_path(metric["provider"]["web"]["jsonPath"], body)
    if "successCondition" in metric and holds(metric["successCondition"], result):
        return "Successful"
    if "failureCondition" in metric and holds(metric["failureCondition"], result):
        return "Failed"
    return "Inconclusive"


@pytest.mark.parametrize(
    ("service", "canary", "baseline", "at_minute", "phase"),
    [
        ("five-hash", "6d4f8b9c7", "5b7c9d8e1", 30, "Failed"),
        ("twice", "v2", "v1", 30, "Inconclusive"),
        ("same", "v2", "v1", 180, "Successful"),
    ],
)
def test_the_documented_analysis_template_reads_the_verdict(
    server: HttpServer, start: int,  # noqa: F811
    service: str, canary: str, baseline: str, at_minute: int, phase: str,
) -> None:
    (metric,) = documented("AnalysisTemplate")["spec"]["metrics"]
    web = metric["provider"]["web"]
    args = {"service": service, "canary-hash": canary, "stable-hash": baseline, "token": TOKEN}
    url = re.sub(r"\{\{args\.([\w-]+)\}\}", lambda m: args[m.group(1)], web["url"])
    url = url.replace("http://sloctl.monitoring:9464", server.url)
    url = url.replace("since=30m", f"since={at_minute}m") + f"&at={start + at_minute * M}"
    headers = {h["key"]: re.sub(r"\{\{args\.([\w-]+)\}\}", lambda m: args[m.group(1)],
                                h["value"]) for h in web["headers"]}
    status, body = call(url, headers=headers)
    assert status == 200, body
    assert argo_phase(metric, body) == phase
    # the boolean form of the docs: {$.pass} and {$.fail}
    assert json_path("{$.pass}", body) is (phase == "Successful")
    assert json_path("{$.fail}", body) is (phase == "Failed")
    assert body["judgement_id"] >= 1 and body["service"] == service


def test_a_request_without_token_or_service_is_refused(server: HttpServer) -> None:
    status, body = call(f"{server.url}/api/v1/canary?service=five")
    assert status == 401
    status, body = call(f"{server.url}/api/v1/canary?canary=v2",
                        headers={"Authorization": f"Bearer {TOKEN}"})
    assert (status, body["field"]) == (400, "service")
    status, body = call(f"{server.url}/api/v1/canary?service=five&canary=v2&baseline=v1"
                        "&since=soon", headers={"Authorization": f"Bearer {TOKEN}"})
    assert (status, body["field"]) == (400, "since")


@pytest.mark.parametrize(
    ("service", "gate", "status"),
    [("five-svc", "rollback", 200), ("five-svc", "promotion", 403),
     ("same", "promotion", 200), ("same", "rollback", 403)],
)
def test_the_documented_flagger_webhooks_open_their_gates(
    server: HttpServer, start: int, service: str, gate: str, status: int,  # noqa: F811
) -> None:
    hooks = {h["metadata"]["gate"]: h for h in
             documented("Canary")["spec"]["analysis"]["webhooks"]}
    metadata = {**hooks[gate]["metadata"], "token": TOKEN, "at": str(start + 180 * M),
                "since": "180m"}
    if service == "same":  # its sides are versions, not services
        metadata = {k: v for k, v in metadata.items() if not k.endswith("_service")}
        metadata.update(canary="v2", baseline="v1")
    else:
        metadata.update(canary_service="five-svc-canary", baseline_service="five-svc-primary")
    payload = {"name": service, "namespace": "test", "phase": "Progressing",
               "metadata": metadata}
    got, body = call(f"{server.url}/api/v1/canary/flagger", json.dumps(payload).encode(),
                     {"Content-Type": "application/json"})
    assert got == status, body
    assert body["service"] == service and body["verdict"] in ("pass", "fail")
