"""Lifecycle shared by the loopback servers sloctl starts (Prometheus, Alertmanager).

Start a binary with its output in a log file, wait until ``/-/ready`` answers, stop with
SIGTERM then SIGKILL; failures quote the last lines of the log.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from sloctl.errors import BackendUnreachable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tail(path: Path, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file ('' if it does not exist)."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class LoopbackProcess:
    """A server process on 127.0.0.1 whose ``ready_path`` answers 200 once it is ready. Use as
    a context manager."""

    name = "server"
    ready_path = "/-/ready"  # Prometheus' and Alertmanager's
    port: int
    log_path: Path

    _proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 30.0) -> Self:
        raise NotImplementedError

    def _launch_on_a_port(
        self, fixed: int | None, args: Callable[[], Sequence[str]], timeout: float
    ) -> None:
        """``_launch(args())`` on ``fixed``, else on a free port (``self.port`` set before
        ``args`` is called), tried 3 times: a free port can be taken in between."""
        attempts = 1 if fixed else 3
        for attempt in range(attempts):
            self.port = fixed or free_port()
            try:
                self._launch(args(), timeout)
                return
            except BackendUnreachable:
                in_use = "address already in use" in tail(self.log_path, 50)
                if not (in_use and attempt + 1 < attempts):
                    raise

    def _launch(self, args: Sequence[str], timeout: float) -> None:
        """Run ``args`` with output to the log and wait until ready (or raise, stopped)."""
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(list(args), stdout=log, stderr=subprocess.STDOUT)
        try:
            self._wait_ready(timeout)
        except BackendUnreachable:
            self.stop()
            raise

    def _wait_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BackendUnreachable(
                    self.name,
                    f"exited with code {self._proc.returncode} at start; "
                    f"last lines of {self.log_path}:\n{tail(self.log_path)}",
                )
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}{self.ready_path}", timeout=1.0) as resp,
            ):
                if resp.status == 200:
                    return
            time.sleep(0.05)
        raise BackendUnreachable(
            self.name,
            f"not ready after {timeout:.0f}s on {self.url}; "
            f"last lines of {self.log_path}:\n{tail(self.log_path)}",
        )

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, wait, then SIGKILL. Safe to call twice."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> Self:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
