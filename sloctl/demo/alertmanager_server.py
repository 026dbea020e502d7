"""Run Debian's Alertmanager on 127.0.0.1 for tests and the demo, sending webhooks to sloctl.

    with AlertmanagerServer(tmp / "am", webhook_url=server.url + WEBHOOK_PATH, token="t") as am:
        am.post_alerts([{"labels": {"alertname": "X", "service": "checkout"}}])

HA gossip is off (``--cluster.listen-address=``); grouping is fast (``group_wait`` 1s,
``group_interval`` 2s by default) so notifications arrive within seconds. The webhook carries
``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from sloctl.demo.process import LoopbackProcess, free_port
from sloctl.demo.prometheus_server import ToolNotInstalled
from sloctl.errors import BackendUnreachable

BINARY = "prometheus-alertmanager"
INSTALL_HINT = (
    "install Debian's Alertmanager: `sudo apt-get update && sudo apt-get install -y "
    "prometheus-alertmanager` (the binary is /usr/bin/prometheus-alertmanager)"
)


class AlertmanagerServer(LoopbackProcess):
    """An Alertmanager process on a loopback port with one webhook receiver. A context manager."""

    name = "alertmanager"

    def __init__(
        self,
        data_dir: Path,
        *,
        webhook_url: str,
        token: str,
        port: int | None = None,
        group_by: Sequence[str] = ("alertname", "service"),
        group_wait: str = "1s",
        group_interval: str = "2s",
        repeat_interval: str = "1h",
        max_alerts: int = 0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.webhook_url = webhook_url
        self.token = token
        self._fixed_port = port
        self.port = port or 0
        self.group_by = tuple(group_by)
        self.group_wait = group_wait
        self.group_interval = group_interval
        self.repeat_interval = repeat_interval
        self.max_alerts = max_alerts
        self.config_path = self.data_dir / "alertmanager.yml"
        self.log_path = self.data_dir / "alertmanager.log"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def target(self) -> str:
        """``host:port`` for Prometheus' ``alerting.alertmanagers``."""
        return f"127.0.0.1:{self.port}"

    def config(self) -> dict[str, Any]:
        """The Alertmanager configuration this server runs with."""
        return {
            "route": {
                "receiver": "sloctl",
                "group_by": list(self.group_by),
                "group_wait": self.group_wait,
                "group_interval": self.group_interval,
                "repeat_interval": self.repeat_interval,
            },
            "receivers": [
                {
                    "name": "sloctl",
                    "webhook_configs": [
                        {
                            "url": self.webhook_url,
                            "send_resolved": True,
                            "max_alerts": self.max_alerts,
                            "http_config": {
                                "authorization": {"type": "Bearer", "credentials": self.token}
                            },
                        }
                    ],
                }
            ],
        }

    def start(self, timeout: float = 30.0) -> AlertmanagerServer:
        """Start Alertmanager and wait for ``/-/ready``; raises BackendUnreachable with its log."""
        if self.running:
            return self
        binary = shutil.which(BINARY)
        if binary is None:
            raise ToolNotInstalled(f"`{BINARY}` was not found on PATH: {INSTALL_HINT}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.port = self._fixed_port or free_port()
        self.config_path.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        os.chmod(self.config_path, 0o600)  # it holds the bearer token
        args = [
            binary,
            f"--config.file={self.config_path}",
            f"--storage.path={self.data_dir / 'storage'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            f"--web.external-url={self.url}",
        ]
        self._launch(args, timeout)
        return self

    def post_alerts(self, alerts: Sequence[dict[str, Any]]) -> None:
        """``POST /api/v2/alerts`` (labels, annotations, startsAt, endsAt, generatorURL)."""
        req = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(list(alerts)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=10.0):
                pass
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")
            raise BackendUnreachable(
                "alertmanager", f"rejected alerts ({exc.code}): {body}"
            ) from exc
        except urllib.error.URLError as exc:
            raise BackendUnreachable("alertmanager", f"POST /api/v2/alerts failed: {exc}") from exc

    def alerts(self) -> list[dict[str, Any]]:
        """``GET /api/v2/alerts``: the alerts Alertmanager holds (active, silenced, inhibited)."""
        with urllib.request.urlopen(f"{self.url}/api/v2/alerts", timeout=10.0) as resp:
            data: list[dict[str, Any]] = json.loads(resp.read())
            return data

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of ``name`` on ``/metrics`` matching ``labels`` (0 if none)."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10.0) as resp:
            text = resp.read().decode()
        return sum(
            sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
        )

