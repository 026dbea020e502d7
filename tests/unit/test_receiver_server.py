"""HttpServer: uvicorn in a thread on a free loopback port; stop and restart on the same port."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sloctl.errors import SettingsError
from sloctl.runtime.http import WEBHOOK_PATH, HttpServer
from sloctl.settings import Settings
from sloctl.store import Store

FIRING = Path(__file__).resolve().parents[1] / "fixtures" / "alertmanager" / "am025_firing.json"


def settings(tmp_path: Path, port: int = 0) -> Settings:
    return Settings.model_validate(
        {
            "store_url": f"sqlite:///{tmp_path / 'sloctl.db'}",
            "receiver": {"host": "127.0.0.1", "port": port, "token": "t0ken"},
        }
    )


def test_serves_on_a_free_port_and_restarts_on_the_same_port(tmp_path: Path) -> None:
    cfg = settings(tmp_path)
    with Store(cfg.store_url) as store:
        server = HttpServer(cfg, store)
        try:
            server.start()
            port = server.port
            assert port > 0 and server.url == f"http://127.0.0.1:{port}"
            with httpx.Client() as http:  # a keep-alive connection stays open across stop()
                assert http.get(f"{server.url}/healthz").json() == {"status": "ok"}
                server.stop()
                assert not server.running
                with pytest.raises(httpx.TransportError):
                    http.get(f"{server.url}/healthz")
            server.start()
            assert server.port == port
            answer = httpx.post(
                server.url + WEBHOOK_PATH,
                content=FIRING.read_bytes(),
                headers={"Authorization": "Bearer t0ken"},
            )
            assert (answer.status_code, answer.json()["new"]) == (200, 1)
            assert [a.fingerprint for a in store.alerts.firing()] == ["ebb1fe80b92a0f50"]
        finally:
            server.stop()
        server.stop()  # idempotent


def test_port_in_use_is_a_settings_error(tmp_path: Path) -> None:
    with Store(settings(tmp_path).store_url) as store:
        first = HttpServer(settings(tmp_path), store)
        try:
            first.start()
            second = HttpServer(settings(tmp_path, first.port), store)
            with pytest.raises(SettingsError, match="SLOCTL_RECEIVER_PORT"):
                second.start()
        finally:
            first.stop()


def test_metrics_endpoint_serves_the_latest_evaluation(tmp_path: Path) -> None:
    from prometheus_client import CONTENT_TYPE_LATEST

    from sloctl.runtime.metrics import render_metrics
    from tests.support.evaluations import T0, evaluation, slo

    cfg = settings(tmp_path)
    ev = evaluation(T0, [slo("checkout", "availability", T0)])
    with Store(cfg.store_url) as store:
        store.save_evaluation(ev)
        with HttpServer(cfg, store) as server:
            answer = httpx.get(f"{server.url}/metrics")
    assert answer.headers["content-type"] == CONTENT_TYPE_LATEST
    assert answer.text == render_metrics(ev).decode()
    labels = 'service="checkout",slo="availability",slo_id="checkout/availability"'
    assert f"sloctl_slo_objective{{{labels}}} 0.999\n" in answer.text
