"""Stopping the demo: SIGTERM and SIGINT end it like Ctrl-C, and everything it started stops.

``signals_stop()`` turns the first SIGTERM or SIGINT into :class:`Stopped`, raised wherever the
demo is (backfill, store evaluations, the wait loop), so its ``finally`` stops every process;
later signals are ignored until the clean-up is done. Child processes get SIGTERM, then SIGKILL
after a grace period.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator, Sequence
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(Exception):
    """The demo was asked to stop (SIGTERM or SIGINT)."""


@contextlib.contextmanager
def signals_stop() -> Iterator[None]:
    """Raise :class:`Stopped` on the first SIGTERM or SIGINT, ignore the next ones."""

    def stop(signum: int, frame: FrameType | None) -> None:
        for sig in SIGNALS:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up
        raise Stopped(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, stop) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def stop_processes(procs: Sequence[subprocess.Popen[bytes]], grace: float = 15.0) -> None:
    """SIGTERM every running process, wait up to ``grace`` seconds for each, then SIGKILL."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
