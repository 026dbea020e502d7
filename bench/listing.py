"""Listings over a big store: ``sloctl alerts`` and ``sloctl deploy list`` with 100,000 rows.

A temporary SQLite store receives ``--rows`` firing alerts (webhook notifications of 1,000) and
as many deployments. Each command runs as a child process (start-up included), best of 3; the
baseline is the same command on an empty store (start-up and the query, nothing to list).
Printed: seconds, the ratio to the baseline, the output size and the peak RSS. Acceptance:
``--limit 100`` under 1 s, ``-o json`` of every row under 10 s.

    .venv/bin/python bench/listing.py                  # 100,000 alerts and deployments
    .venv/bin/python bench/listing.py --rows 20000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from sloctl.dora.model import Deployment, DeployStatus
from sloctl.store import Store
from sloctl.store.incidents import Notification, ReceivedAlert

T0 = datetime(2026, 1, 1, tzinfo=UTC)
COMMANDS = {
    "alerts --limit 100": ["alerts", "--limit", "100"],
    "alerts -o json": ["alerts", "-o", "json"],
    "deploy list --limit 100": ["deploy", "list", "--limit", "100"],
    "deploy list -o json (all)": ["deploy", "list", "--limit", "0", "-o", "json"],
}


def fill(url: str, rows: int) -> None:
    with Store(url) as store:
        for start in range(0, rows, 1000):
            alerts = [ReceivedAlert(f"{i:016x}", "firing", T0 + timedelta(seconds=i), None,
                                    {"alertname": "Bench", "service": f"svc{i % 50}",
                                     "severity": "page", "instance": f"i{i}"},
                                    {"summary": f"bench alert {i}"})
                      for i in range(start, min(start + 1000, rows))]
            store.alerts.record(Notification("sloctl", "firing", f"g{start}", alerts), T0)
            for i in range(start, min(start + 1000, rows)):
                finished = T0 + timedelta(seconds=i)
                store.deployments.record(Deployment(
                    service=f"svc{i % 50}", environment="production", version=f"v{i}",
                    sha=f"{i:07x}", finished=finished, status=DeployStatus.SUCCESS,
                    commit_time=finished - timedelta(minutes=5)), "bench", T0)


def run(args: list[str], url: str, folder: Path) -> tuple[float, int, float, int]:
    """Best of 3: seconds, output bytes, peak RSS MiB, exit code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOCTL_", "OTEL_"))}
    env.update({"SLOCTL_STORE_URL": url, "COLUMNS": "160"})
    best = (float("inf"), 0, 0.0, 0)
    for _ in range(3):
        started = time.monotonic()
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen([sys.executable, "-m", "sloctl.cli.main", *args], env=env,
                                    cwd=folder, stdout=out, stderr=subprocess.DEVNULL)
            peak = 0
            watched = psutil.Process(proc.pid)
            while proc.poll() is None:
                try:
                    peak = max(peak, watched.memory_info().rss)
                except psutil.NoSuchProcess:
                    break
                time.sleep(0.02)
            seconds = time.monotonic() - started
            size = out.tell()
        if seconds < best[0]:
            best = (seconds, size, peak / 2**20, proc.returncode)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sloctl-bench-listing-") as tmp:
        folder = Path(tmp)
        empty, full = f"sqlite:///{folder / 'empty.db'}", f"sqlite:///{folder / 'full.db'}"
        Store(empty).close()
        started = time.monotonic()
        fill(full, args.rows)
        print(f"{args.rows} alerts and {args.rows} deployments stored in "
              f"{time.monotonic() - started:.0f} s\n")
        print(f"{'command':<28} {'empty s':>8} {'full s':>8} {'ratio':>6} {'output':>10} "
              f"{'peak MiB':>9} {'exit':>5}")
        checks = {}
        for name, command in COMMANDS.items():
            base = run(command, empty, folder)
            result = run(command, full, folder)
            print(f"{name:<28} {base[0]:>8.2f} {result[0]:>8.2f} {result[0] / base[0]:>5.1f}x "
                  f"{result[1]:>10} {result[2]:>9.0f} {result[3]:>5}")
            bound = 1.0 if "limit 100" in name else 10.0
            checks[f"{name} < {bound:g} s"] = result[0] < bound and result[3] == 0
    print("; ".join(f"{k}: {'PASS' if v else 'FAIL'}" for k, v in checks.items()))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
