"""Credentials never shown: a unique password in every URL and secret setting, then everything
a run produced is searched for them: the output of eval, serve, status, alerts, incidents and
dora, serve's log, the SQLite store's bytes and the spans sloctl exported.

The backends are down (closed ports), so every error message that names a URL is produced; the
spans go to the local OTLP receiver, itself reached through a URL with a password.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx

from tests.support.otlp_receiver import otlp_receiver
from tests.support.processes import free_port, http_get, wait_until
from tests.support.sloctl_process import run_sloctl, sloctl_env, sloctl_serve

SECRETS = {
    "prometheus": "Prom-Pw-7391",
    "prometheus_bearer": "Prom-Bearer-2285",
    "alertmanager": "Am-Pw-5512",
    "loki": "Loki-Pw-9034",
    "jaeger": "Jaeger-Pw-1178",
    "otlp": "Otlp-Pw-6620",
    "smtp": "Smtp-Pw-4407",
    "receiver": "Receiver-Tok-3319",
    "store": "Store-Pw-8846",
}
WEBHOOK = {
    "version": "4", "groupKey": "{}:{alertname=\"HighErrors\"}", "status": "firing",
    "receiver": "sloctl", "truncatedAlerts": 0,
    "alerts": [{"status": "firing", "labels": {"alertname": "HighErrors", "service": "order",
                                              "severity": "page"},
                "startsAt": "2026-11-27T08:37:37Z", "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": "ebb1fe80b92a0f50"}],
}


def leaks(text: str | bytes) -> list[str]:
    data = text.encode(errors="replace") if isinstance(text, str) else text
    return [name for name, secret in SECRETS.items() if secret.encode() in data]


def test_no_credential_in_any_output_log_row_or_span(tmp_path: Path) -> None:
    closed = f"127.0.0.1:{free_port()}"
    port = free_port()
    config = tmp_path / "sloctl.yaml"
    config.write_text(
        "prometheus:\n  headers: {X-Api-Key: " + SECRETS["prometheus_bearer"] + "}\n"
        "jaeger: {enabled: true}\n"
    )
    with otlp_receiver() as receiver:
        otlp = receiver.url.replace("http://", f"http://sloctl:{SECRETS['otlp']}@")
        env = sloctl_env(
            tmp_path,
            config=str(config),
            prometheus_url=f"http://prom:{SECRETS['prometheus']}@{closed}",
            alertmanager_url=f"http://am:{SECRETS['alertmanager']}@{closed}",
            loki_url=f"http://loki:{SECRETS['loki']}@{closed}",
            jaeger_url=f"http://jaeger:{SECRETS['jaeger']}@{closed}",
            otlp_endpoint=otlp,
            smtp_host="127.0.0.1",
            smtp_username="mailer",
            smtp_password=SECRETS["smtp"],
            receiver_token=SECRETS["receiver"],
            receiver_port=str(port),
        )
        outputs: list[str] = []
        ran = run_sloctl(["eval"], env, tmp_path)
        outputs += [ran.stdout, ran.stderr]
        assert ran.returncode == 3, ran.stderr  # every query failed: the backend code
        assert "prom:***@" in ran.stderr
        ran = run_sloctl(["eval", "-o", "json"], env, tmp_path)
        outputs += [ran.stdout, ran.stderr]
        with sloctl_serve(env, tmp_path, interval=1) as serving:
            wait_until(lambda: http_get(f"http://127.0.0.1:{port}/healthz"), 60, "serve",
                       serving.proc)
            answer = httpx.post(f"http://127.0.0.1:{port}/api/v1/alertmanager", json=WEBHOOK,
                                headers={"Authorization": f"Bearer {SECRETS['receiver']}"})
            assert answer.status_code == 200, answer.text
            wait_until(lambda: len(receiver.spans()) >= 3 or None, 60, "spans exported")
            stopped = serving.terminate()
        outputs.append(stopped.output)
        assert "prom:***@" in stopped.output  # the banner names the URL, masked
        for command in (["status"], ["status", "-o", "json"], ["alerts"], ["incidents"],
                        ["dora"], ["alerts", "-o", "json"]):
            ran = run_sloctl(command, env, tmp_path)
            outputs += [ran.stdout, ran.stderr]
        spans = b"".join(export.request.SerializeToString() for export in receiver.exports)
    store_env = {**env, "SLOCTL_STORE_URL":
                 f"postgresql+psycopg://sloctl:{SECRETS['store']}@{closed}/sloctl"}
    ran = run_sloctl(["status"], store_env, tmp_path)
    assert ran.returncode == 2 and "sloctl:***@" in ran.stderr
    outputs += [ran.stdout, ran.stderr]

    assert [leaks(text) for text in outputs if leaks(text)] == []
    assert spans and leaks(spans) == []
    for db in tmp_path.glob("sloctl.db*"):
        assert leaks(db.read_bytes()) == [], db
    with sqlite3.connect(tmp_path / "sloctl.db") as conn:
        problems = json.dumps(conn.execute("select problems from evaluations").fetchall())
    assert "prom:***@" in problems  # the stored problems name the URL, masked
