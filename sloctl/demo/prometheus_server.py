"""Run a real Prometheus process on 127.0.0.1 for tests, the demo and benchmarks.

``PrometheusServer`` writes its config into ``data_dir`` (which is also the TSDB folder, so blocks
backfilled there are served), keeps old blocks (retention 90d) and always stops the process on
exit. Scraped series drop the ``job``/``instance`` target labels, so live scrapes of a
:class:`~sloctl.demo.live.LiveExporter` continue the very series that were backfilled.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import yaml

from sloctl.demo.process import LoopbackProcess
from sloctl.errors import EXIT_USAGE, BackendUnreachable, SloctlError

INSTALL_HINT = (
    "install Debian's Prometheus: `sudo apt-get update && sudo apt-get install -y prometheus` "
    "(`make demo` does it)"
)


class ToolNotInstalled(SloctlError):
    """A required external program (prometheus, promtool) is not on PATH."""

    exit_code = EXIT_USAGE


def find_binary(name: str) -> str:
    """Absolute path of ``prometheus`` or ``promtool``; raises ToolNotInstalled with the fix."""
    path = shutil.which(name)
    if path is None:
        raise ToolNotInstalled(f"`{name}` was not found on PATH: {INSTALL_HINT}")
    return path



class PrometheusServer(LoopbackProcess):
    """A Prometheus process on a loopback port. Use as a context manager."""

    name = "prometheus"

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        scrape_targets: Sequence[str] = (),
        scrape_interval: str = "15s",
        rule_files: Sequence[Path] = (),
        query_log: Path | None = None,
        evaluation_interval: str = "15s",
        extra_args: Sequence[str] = (),
        alertmanagers: Sequence[str] = (),
    ) -> None:
        self.data_dir = Path(data_dir)
        self._fixed_port = port
        self.port = port or 0
        self.scrape_targets = tuple(scrape_targets)
        self.scrape_interval = scrape_interval
        self.rule_files = tuple(Path(p) for p in rule_files)
        self.query_log = query_log
        self.evaluation_interval = evaluation_interval
        self.extra_args = tuple(extra_args)
        self.alertmanagers = tuple(alertmanagers)  # host:port of Alertmanagers to alert
        self.config_path = self.data_dir / "sloctl-prometheus.yml"
        self.log_path = self.data_dir / "sloctl-prometheus.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def config(self) -> dict[str, object]:
        """The Prometheus configuration this server runs with."""
        glob: dict[str, object] = {
            "scrape_interval": self.scrape_interval,
            "evaluation_interval": self.evaluation_interval,
        }
        if self.query_log is not None:
            glob["query_log_file"] = str(self.query_log.resolve())
        cfg: dict[str, object] = {"global": glob}
        if self.rule_files:
            cfg["rule_files"] = [str(p.resolve()) for p in self.rule_files]
        if self.alertmanagers:
            cfg["alerting"] = {
                "alertmanagers": [
                    {"api_version": "v2", "static_configs": [{"targets": list(self.alertmanagers)}]}
                ]
            }
        if self.scrape_targets:
            cfg["scrape_configs"] = [
                {
                    "job_name": "sloctl-demo",
                    "scrape_interval": self.scrape_interval,
                    "static_configs": [{"targets": list(self.scrape_targets)}],
                    "metric_relabel_configs": [{"action": "labeldrop", "regex": "job|instance"}],
                }
            ]
        return cfg

    def start(self, timeout: float = 30.0) -> PrometheusServer:
        """Start Prometheus and wait for ``/-/ready``; raises BackendUnreachable with its log."""
        if self.running:
            return self
        binary = find_binary("prometheus")
        self.data_dir.mkdir(parents=True, exist_ok=True)

        def args() -> list[str]:
            self.config_path.write_text(yaml.safe_dump(self.config(), sort_keys=False))
            return [
                binary,
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.data_dir}",
                "--storage.tsdb.retention.time=90d",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-lifecycle",
                *self.extra_args,
            ]

        self._launch_on_a_port(self._fixed_port, args, timeout)
        return self

    def reload(self) -> None:
        """Re-read config and rule files (``POST /-/reload``)."""
        self.config_path.write_text(yaml.safe_dump(self.config(), sort_keys=False))
        req = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10.0):
                pass
        except urllib.error.URLError as exc:
            raise BackendUnreachable(
                "prometheus", f"reload failed ({exc}); check {self.log_path}"
            ) from exc

    def query_log_count(self) -> int:
        """Number of HTTP API queries in the query log (rule evaluations are not counted)."""
        if self.query_log is None:
            raise ValueError("query_log_count() needs PrometheusServer(..., query_log=PATH)")
        if not self.query_log.exists():
            return 0
        count = 0
        for line in self.query_log.read_text().splitlines():
            with contextlib.suppress(ValueError):
                if "httpRequest" in json.loads(line):
                    count += 1
        return count

