"""Bounded, safe log lines for ``sloctl serve``, whatever clients do.

``install_log_guard()`` puts one ``LogGuard`` filter on the root handlers: every record is
redacted (``sloctl.redact``) with control characters escaped, a client that hung up is one line
without a traceback, and the records of the HTTP stack (uvicorn, asyncio, h11, starlette and
sloctl's receiver) are rate-limited per message: ``BURST`` per ``WINDOW_SECONDS``, then one line
saying how many were suppressed. httpx's per-request INFO lines are off.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from starlette.requests import ClientDisconnect

from sloctl.redact import safe

NOISY = ("uvicorn", "asyncio", "h11", "starlette", "fastapi", "sloctl.runtime.http",
         "sloctl.runtime.guard")
HANGUPS: tuple[type[BaseException], ...] = (
    ConnectionResetError, BrokenPipeError, ConnectionAbortedError, ClientDisconnect,
)
BURST = 5
WINDOW_SECONDS = 10.0
_formatter = logging.Formatter()


class LogGuard(logging.Filter):
    """Redacts and escapes every record; rate-limits the noisy loggers per message."""

    def __init__(self, burst: int = BURST, window: float = WINDOW_SECONDS) -> None:
        super().__init__()
        self.burst = burst
        self.window = window
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], list[Any]] = {}  # key -> [window start, count, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HANGUPS):
            record.msg = f"{record.getMessage()} (the client hung up: {type(exc).__name__})"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        if record.name.startswith(NOISY):
            suppressed = self._count(record)
            if suppressed is None:
                return False
            if suppressed:
                record.msg = f"{record.getMessage()} ({suppressed} similar lines suppressed)"
                record.args = None
        record.msg = safe(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = safe(_formatter.formatException(record.exc_info))
            record.exc_info = None
        return True

    def _count(self, record: logging.LogRecord) -> int | None:
        """None to drop the record; else how many of its kind were dropped before it."""
        key = (record.name, str(record.msg)[:200])
        now = time.monotonic()
        with self._lock:
            entry = self._seen.get(key)
            if entry is None or now - entry[0] > self.window:
                dropped = entry[2] if entry else 0
                self._seen[key] = [now, 1, 0]
                if len(self._seen) > 1000:  # many distinct messages: forget the old windows
                    self._seen = {k: v for k, v in self._seen.items() if now - v[0] <= self.window}
                return dropped
            entry[1] += 1
            if entry[1] > self.burst:
                entry[2] += 1
                return None
            return 0


def install_log_guard() -> LogGuard:
    """Put one ``LogGuard`` on every root handler (and Python's last-resort handler)."""
    guard = LogGuard()
    handlers = [*logging.getLogger().handlers, logging.lastResort]
    for handler in handlers:
        if handler is not None and not any(isinstance(f, LogGuard) for f in handler.filters):
            handler.addFilter(guard)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return guard
