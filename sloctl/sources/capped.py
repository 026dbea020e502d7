"""Reading a backend's answer within caps: at most N bytes and N series, and done by a deadline.

A hostile or runaway backend (300,000 series, an endless or trickling body) must cost neither
the cycle's time nor its memory: ``Meter`` follows an answer chunk by chunk and raises, at the
first chunk past ``max_bytes``, past ``max_series`` series (counted as they arrive by a marker
such as ``"metric":``, which JSON cannot hold unescaped inside a string) or past the deadline.

Its exceptions, ``AnswerOverCap`` and ``AnswerPastDeadline``, are requests exceptions (they are
raised inside a ``requests.Session`` by ``sources.capped_requests``), and the error table of
``sources.http_errors`` maps them to ``BackendLimitError`` / ``BackendUnreachable``.
``read_capped`` (the httpx clients: Loki, Jaeger) raises those typed errors directly.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import requests

from sloctl.errors import BackendLimitError, BackendUnreachable


class AnswerAbandoned(requests.exceptions.RequestException):
    """A download stopped before its end by a cap or the deadline (the message says which)."""


class AnswerOverCap(AnswerAbandoned):
    """The answer is above a cap; the message names the cap and its setting."""


class AnswerPastDeadline(AnswerAbandoned):
    """The body was still coming when the whole-answer deadline passed."""


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

    def series_text(self) -> str:
        """What is wrong with an answer above ``max_series``, and the fix."""
        return (
            f"the answer has more than {self.max_series} series, the cap "
            f"({self.series_setting}); its values are unknown. Narrow the query (aggregate "
            f"with sum by (...)) or raise {self.series_setting}"
        )

    def bytes_text(self) -> str:
        """What is wrong with an answer above ``max_bytes``, and the fix."""
        return (
            f"the answer is larger than {self.max_bytes} bytes, the cap "
            f"({self.bytes_setting}); reading stopped and its values are unknown. Narrow "
            f"the query or raise {self.bytes_setting}"
        )

    def check_series(self, count: int, query: str | None) -> None:
        """Raise ``BackendLimitError`` when an answer holds more than ``max_series`` series."""
        if self.max_series is not None and count > self.max_series:
            raise BackendLimitError(self.backend, self.series_text(), query=query)

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


def deadline_text(timeout_seconds: float, timeout_fix: str) -> str:
    """What is wrong with a body still coming at the deadline, and the fix."""
    return f"no complete answer within {timeout_seconds:g} s (the body kept coming); {timeout_fix}"


class Meter:
    """Follows one answer as it downloads: bytes, series (by ``series_marker``), time."""

    def __init__(self, caps: Caps, *, deadline: float, series_marker: bytes | None) -> None:
        self.caps = caps
        self.deadline = deadline  # time.monotonic()
        self.marker = series_marker
        self.body = bytearray()
        self.series = 0

    def add(self, chunk: bytes) -> None:
        """Take the next chunk; raise ``AnswerOverCap`` / ``AnswerPastDeadline`` past a cap."""
        caps, body = self.caps, self.body
        if self.marker is not None and caps.max_series is not None:
            start = max(0, len(body) - len(self.marker) + 1)  # a marker split between chunks
            self.series += (body[start:] + chunk).count(self.marker)
            if self.series > caps.max_series:
                raise AnswerOverCap(caps.series_text())
        body += chunk
        if len(body) > caps.max_bytes:
            raise AnswerOverCap(caps.bytes_text())
        if time.monotonic() > self.deadline:
            raise AnswerPastDeadline(f"the body was still coming at the deadline ({caps.backend})")


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
    """The whole body, or ``BackendLimitError`` past a cap / ``BackendUnreachable`` past
    ``deadline`` (``time.monotonic()``); the caller then closes the response, abandoning the
    download."""
    meter = Meter(caps, deadline=deadline, series_marker=series_marker)
    try:
        for chunk in chunks:
            meter.add(chunk)
    except AnswerOverCap as exc:
        raise BackendLimitError(caps.backend, str(exc), query=query) from None
    except AnswerPastDeadline:
        raise BackendUnreachable(
            caps.backend, deadline_text(timeout_seconds, timeout_fix), query=query
        ) from None
    return bytes(meter.body)
