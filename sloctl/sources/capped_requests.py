"""A ``requests`` transport adapter that reads every answer within the caps before requests does.

prometheus-api-client reads its answers with ``response.json()`` on a ``requests.Session`` it is
given; it cannot stream nor cap them. The caps therefore live in the session: ``CappedAdapter``
(a public ``requests.adapters.HTTPAdapter`` subclass, mounted on the session) downloads each
body itself, chunk by chunk as it arrives, through a ``sources.capped.Meter`` — at most
``max_bytes``, at most ``max_series`` series (the marker count) and complete by the whole-answer
deadline — and hands requests the body it read. Past a cap it closes the connection (the rest
is never downloaded) and raises ``AnswerOverCap`` / ``AnswerPastDeadline``, requests exceptions
that ``sources.http_errors`` maps to the typed ``BackendError``.

It also owns what the library would otherwise decide: only a 200 is an answer (any other status
raises ``requests.HTTPError`` carrying its capped body, which the error table maps to
``BackendQueryError`` with the backend's own text, so the library never builds its exception
from an unbounded body), and a connection error or a 502/503/504 is retried once while the
deadline allows (nothing logged; urllib3's own retries would drain an error body unbounded).

With a ``warnings_marker`` (Prometheus: ``"warnings"``), a 200 answer whose body holds the marker
has its JSON envelope read for a ``warnings`` list (the library keeps only ``data``): a non-empty
one raises ``AnswerWithWarnings`` carrying them. The marker test is one scan of the body already
in memory, so an answer without warnings costs no second parse.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator, Mapping

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import DecodeError, HTTPError, ProtocolError, ReadTimeoutError, SSLError

from sloctl.sources.capped import Caps, Meter

__all__ = ["RETRY_PAUSE_SECONDS", "RETRY_STATUSES", "AnswerWithWarnings", "CappedAdapter",
           "envelope_warnings"]

RETRY_STATUSES = frozenset({502, 503, 504})
RETRY_PAUSE_SECONDS = 0.2
CHUNK_BYTES = 64 * 1024  # at most this much per read; a read returns what has arrived

_Timeout = float | tuple[float, float] | tuple[float, None] | None
_Cert = bytes | str | tuple[bytes | str, bytes | str] | None


class AnswerWithWarnings(requests.exceptions.RequestException):
    """A complete 200 answer whose envelope carries ``warnings``: data that may be partial
    (Thanos: some stores did not answer) or dubious; ``warnings`` holds their texts."""

    def __init__(self, warnings: tuple[str, ...], response: requests.Response) -> None:
        super().__init__(f"{len(warnings)} warning(s): {'; '.join(warnings)}", response=response)
        self.warnings = warnings


class CappedAdapter(HTTPAdapter):
    """Sends with one retry and reads each answer within ``caps`` and ``timeout_seconds``."""

    def __init__(
        self, caps: Caps, *, timeout_seconds: float, series_marker: bytes | None, pool: int,
        warnings_marker: bytes | None = None,
    ) -> None:
        super().__init__(pool_connections=pool, pool_maxsize=pool)
        self.caps = caps
        self.timeout_seconds = timeout_seconds
        self.series_marker = series_marker
        self.warnings_marker = warnings_marker

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: _Timeout = None,
        verify: bool | str = True,
        cert: _Cert = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """The answer with its whole body read (``stream`` is ignored: it always is), or a
        requests exception: ``AnswerOverCap``, ``AnswerPastDeadline``, ``HTTPError`` for a
        status other than 200, ``AnswerWithWarnings`` (with a ``warnings_marker``), or what the
        connection raised."""
        deadline = time.monotonic() + self.timeout_seconds
        wait: _Timeout = self.timeout_seconds if timeout is None else timeout
        answer: requests.Response | None = None
        for attempt in (1, 2):
            try:
                answer = super().send(request, stream=True, timeout=wait, verify=verify,
                                      cert=cert, proxies=proxies)
            except requests.exceptions.ConnectionError as exc:
                timed_out = isinstance(exc, requests.exceptions.Timeout)
                if timed_out or not _may_retry(attempt, deadline):
                    raise
            else:
                if answer.status_code not in RETRY_STATUSES or not _may_retry(attempt, deadline):
                    break
                answer.close()  # the error body is not read: the connection is dropped
            time.sleep(RETRY_PAUSE_SECONDS)
            wait = max(deadline - time.monotonic(), 0.001)
        assert answer is not None  # the loop either breaks with an answer or raises
        meter = Meter(self.caps, deadline=deadline, series_marker=self.series_marker)
        try:
            for chunk in _chunks(answer):
                meter.add(chunk)
        except BaseException:
            answer.close()  # abandon the download: the rest is never read
            raise
        answer.raw = io.BytesIO(meter.body)  # what requests reads as the content
        if answer.status_code != 200:
            raise requests.exceptions.HTTPError(f"HTTP {answer.status_code}", response=answer)
        if self.warnings_marker is not None and self.warnings_marker in meter.body:
            warnings = envelope_warnings(meter.body)
            if warnings:
                raise AnswerWithWarnings(warnings, answer)
        return answer


INFO_PREFIX = "PromQL info:"  # an annotation about the query, not about the data's completeness


def envelope_warnings(body: bytes | bytearray) -> tuple[str, ...]:
    """The ``warnings`` of a Prometheus API answer's envelope; none when the body is not a JSON
    object (the library then fails to decode it, and says so). PromQL info annotations
    (``PromQL info: ...``; Prometheus 2 before its ``infos`` field sent them among the
    warnings) are not warnings."""
    try:
        doc = json.loads(body)
    except ValueError:
        return ()
    warnings = doc.get("warnings") if isinstance(doc, dict) else None
    if not isinstance(warnings, list):
        return ()
    return tuple(str(w) for w in warnings if not str(w).startswith(INFO_PREFIX))


def _may_retry(attempt: int, deadline: float) -> bool:
    """Once, and only while the pause leaves time before the deadline."""
    return attempt == 1 and time.monotonic() + RETRY_PAUSE_SECONDS < deadline


def _chunks(answer: requests.Response) -> Iterator[bytes]:
    """The body as it arrives (decoded), each read returning what the socket has; urllib3's
    errors become requests' as ``Response.iter_content`` makes them."""
    raw = answer.raw
    try:
        while chunk := raw.read1(CHUNK_BYTES, decode_content=True):
            yield chunk
    except ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc, response=answer) from exc
    except ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc, response=answer) from exc
    except DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc, response=answer) from exc
    except SSLError as exc:
        raise requests.exceptions.SSLError(exc, response=answer) from exc
    except HTTPError as exc:  # any other failure of the connection while reading
        raise requests.exceptions.ConnectionError(exc, response=answer) from exc
