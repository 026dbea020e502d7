"""Reading a backend's answer within caps: at most N bytes, and done by a deadline.

A hostile or runaway backend (300,000 series, an endless or trickling body) must cost neither
the cycle's time nor its memory: ``read_capped`` stops at the first chunk past ``max_bytes``,
past ``max_series`` series (counted as they arrive by a marker such as ``"metric":``, which
JSON cannot hold unescaped inside a string) or past the deadline, and raises a typed error
naming the cap and its setting.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from sloctl.errors import BackendLimitError, BackendUnreachable


@dataclass(frozen=True)
class Caps:
    """One backend's caps and the settings that raise them (named in the messages)."""

    backend: str
    max_bytes: int
    bytes_setting: str
    max_series: int | None = None
    series_setting: str = ""
    max_labels: int | None = None
    labels_setting: str = ""

    def check_series(self, count: int, query: str | None) -> None:
        """Raise ``BackendLimitError`` when an answer holds more than ``max_series`` series."""
        if self.max_series is not None and count > self.max_series:
            raise BackendLimitError(
                self.backend,
                f"the answer has more than {self.max_series} series, the cap "
                f"({self.series_setting}); its values are unknown. Narrow the query (aggregate "
                f"with sum by (...)) or raise {self.series_setting}",
                query=query,
            )

    def check_labels(self, count: int, query: str | None) -> None:
        """Raise ``BackendLimitError`` for a series with more than ``max_labels`` labels."""
        if self.max_labels is not None and count > self.max_labels:
            raise BackendLimitError(
                self.backend,
                f"a series has {count} labels, above the cap of {self.max_labels} "
                f"({self.labels_setting}); its values are unknown. Drop labels in the query "
                f"or raise {self.labels_setting}",
                query=query,
            )


def read_capped(
    chunks: Iterable[bytes],
    caps: Caps,
    *,
    deadline: float,
    timeout_seconds: float,
    timeout_fix: str,
    query: str | None = None,
    series_marker: bytes | None = None,
) -> bytes:
    """The whole body, or ``BackendLimitError`` past ``caps.max_bytes`` /
    ``BackendUnreachable`` past ``deadline`` (``time.monotonic()``); the caller then closes the
    response, abandoning the download."""
    body = bytearray()
    series = 0
    for chunk in chunks:
        if series_marker is not None:
            overlap = len(series_marker) - 1  # a marker split between two chunks
            start = max(0, len(body) - overlap)
            series += (body[start:] + chunk).count(series_marker)
            caps.check_series(series, query)
        body += chunk
        if len(body) > caps.max_bytes:
            raise BackendLimitError(
                caps.backend,
                f"the answer is larger than {caps.max_bytes} bytes, the cap "
                f"({caps.bytes_setting}); reading stopped and its values are unknown. Narrow "
                f"the query or raise {caps.bytes_setting}",
                query=query,
            )
        if time.monotonic() > deadline:
            raise BackendUnreachable(
                caps.backend,
                f"no complete answer within {timeout_seconds:g} s (the body kept coming); "
                f"{timeout_fix}",
                query=query,
            )
    return bytes(body)
