"""Running the real ``sloctl`` command in a child process, for tests of what a process does once:
install the OpenTelemetry SDK, handle SIGTERM, exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.processes import stop_group

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "sloctl" / "demo" / "specs"


def sloctl_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    """The environment without any SLOCTL_* or OTEL_* variable of the caller, plus ``settings``
    (``SLOCTL_`` + key) and a store in ``tmp_path``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOCTL_", "OTEL_"))}
    env["SLOCTL_STORE_URL"] = f"sqlite:///{tmp_path / 'sloctl.db'}"
    env["SLOCTL_SPECS"] = str(SPECS)
    env.update({f"SLOCTL_{k.upper()}": v for k, v in settings.items()})
    return env


def run_sloctl(
    args: list[str], env: Mapping[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``sloctl ARGS`` to completion, output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "sloctl.cli.main", *args],
        env=dict(env), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
    )


@dataclass
class Stopped:
    returncode: int
    seconds: float  # from SIGTERM to exit
    output: str


@dataclass
class Serving:
    proc: subprocess.Popen[bytes]
    log: Path

    def terminate(self, bound: float = 30.0) -> Stopped:
        """SIGTERM, then wait up to ``bound`` seconds for the exit."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=bound)
        seconds = time.monotonic() - started
        return Stopped(self.proc.returncode, seconds, self.log.read_text(errors="replace"))


@contextmanager
def sloctl_serve(
    env: Mapping[str, str], cwd: Path, interval: int = 1
) -> Iterator[Serving]:
    """``sloctl serve`` in its own process group, output in ``cwd/serve.log``; always stopped."""
    log = cwd / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sloctl.cli.main", "serve", "--interval", str(interval)],
            env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        yield Serving(proc, log)
    finally:
        stop_group(proc)
