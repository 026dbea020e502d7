"""The log lines of ``sloctl serve``: text or JSON (``log_format``), guarded, scheduler quiet.

    configure_logging("INFO", "json")   # one handler on stderr, then the log guard
    set_context(replica="host:42")      # fields every JSON line carries from now on

JSON: one object per line with ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``,
``message``, the context fields, the record's own fields (``extra={...}``: ``event``, ``role``,
``at``, ...) and ``exception`` when there is one. Every line passes the log guard first
(``runtime.log_guard``: secrets masked, control characters escaped, floods bounded), and the
record's own string fields are masked too. APScheduler's per-run INFO lines ("Running job",
"executed successfully") are off: the daemon logs each cycle itself.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from logging import Handler
from typing import Any, TextIO

from sloctl.redact import safe
from sloctl.runtime.log_guard import install_log_guard

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("apscheduler",)  # loggers kept at WARNING whatever the level
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_context: dict[str, str] = {}


def set_context(**fields: str) -> None:
    """Fields added to every JSON line from now on (``replica``, ...)."""
    _context.update(fields)


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return safe(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    return safe(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        at = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        line: dict[str, Any] = {
            "time": at.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context,
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and key not in line:
                line[key] = _plain(value)
        if record.exc_info:
            line["exception"] = safe(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str, fmt: str = "text", stream: TextIO | None = None) -> Handler:
    """Log to ``stream`` (stderr) at ``level`` in ``fmt`` (``text`` or ``json``), replacing the
    root's handlers; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    install_log_guard()  # redacted, escaped, and bounded under any flood
    return handler
