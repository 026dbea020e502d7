"""Start-up time of the sloctl CLI, hyperfine-like, against ``python -c pass`` in the same run.

Builds a temporary SQLite store holding one fresh evaluation (``--services`` services x 2 SLOs),
then runs each command ``--runs`` times as a subprocess, round-robin (one discarded warm-up run
each), and prints per command the median and minimum wall time, the median minus the baseline's
and the ratio to the baseline (``python -c pass``: the interpreter's own start). Target: the
median of ``--help``, ``--version``, ``status`` and ``slo show`` at most 0.3 s. For reference,
``libs floor`` imports only the libraries a reading command cannot do without (SQLAlchemy,
pydantic, Typer, Rich, PyYAML).

    .venv/bin/python bench/cli_startup.py [--runs 21] [--services 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sloctl.store import Store  # noqa: E402
from tests.support import evaluations as ev  # noqa: E402

TARGET_SECONDS = 0.3
TARGETS = ("--help", "--version", "status", "slo show")


@dataclass(frozen=True)
class Command:
    name: str
    argv: list[str]


def fill_store(url: str, services: int) -> str:
    """One evaluation 5 s old; returns an SLO id to show."""
    at = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=5)
    names = [f"svc{i:03d}" for i in range(services)]
    slos = [ev.slo(s, name, at) for s in names for name in ("availability", "latency")]
    with Store(url) as store:
        store.evaluations.save(ev.evaluation(at, slos))
    return f"{names[0]}/availability"


def commands(sloctl: str, slo_id: str) -> list[Command]:
    return [
        Command("baseline", [sys.executable, "-c", "pass"]),
        Command("--version", [sloctl, "--version"]),
        Command("--help", [sloctl, "--help"]),
        Command("status", [sloctl, "status", "--max-age", "0"]),
        Command("slo show", [sloctl, "slo", "show", slo_id, "--max-age", "0"]),
        Command("import cli", [sys.executable, "-c", "import sloctl.cli.main"]),
        # what status cannot do without: the store's SQL toolkit, settings, the CLI framework
        Command("libs floor", [sys.executable, "-c",
                               "import sqlalchemy, pydantic, typer, rich.table, yaml"]),
    ]


def time_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--services", type=int, default=10)
    args = parser.parse_args()
    sloctl = str(Path(sys.executable).parent / "sloctl")
    with tempfile.TemporaryDirectory(prefix="sloctl-startup-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'sloctl.db'}"
        slo_id = fill_store(url, args.services)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLOCTL_")}
        env.update(SLOCTL_STORE_URL=url, SLOCTL_CONFIG="", COLUMNS="120")
        cmds = commands(sloctl, slo_id)
        times: dict[str, list[float]] = {c.name: [] for c in cmds}
        for c in cmds:  # warm-up: page cache, .pyc files
            time_once(c.argv, env)
        for _ in range(args.runs):
            for c in cmds:
                times[c.name].append(time_once(c.argv, env))
    base = statistics.median(times["baseline"])
    print(f"{args.runs} runs each, round-robin; baseline `python -c pass` median "
          f"{base * 1000:.0f} ms; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print(f"{'command':<12} {'median s':>9} {'min s':>7} {'- base s':>9} {'x base':>7}  target")
    for c in cmds[1:]:
        median = statistics.median(times[c.name])
        verdict = ""
        if c.name in TARGETS:
            verdict = "PASS" if median <= TARGET_SECONDS else "FAIL"
        print(f"{c.name:<12} {median:9.3f} {min(times[c.name]):7.3f} {median - base:9.3f} "
              f"{median / base:7.1f}  {verdict}")


if __name__ == "__main__":
    main()
