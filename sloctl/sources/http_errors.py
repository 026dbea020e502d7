"""One table from HTTP client failures to sloctl's typed backend errors (requests and httpx).

Prometheus (prometheus-api-client over requests, with ``CappedAdapter`` on its session), Loki,
Jaeger and the Alertmanager notifier (httpx) map every failure here, by exception type (first
matching row wins):

===========================================================  ====================================
failure                                                      error
===========================================================  ====================================
an answer above a cap (``capped.AnswerOverCap``, raised by   ``BackendLimitError`` naming the cap
``capped_requests.CappedAdapter`` while downloading)         and its setting
the body still coming at the whole-answer deadline           ``BackendUnreachable``: no complete
(``capped.AnswerPastDeadline``)                              answer within the timeout, and its
                                                             setting
timeout (requests ``Timeout``, httpx ``TimeoutException``)   ``BackendUnreachable``: no answer
                                                             within the timeout, and its setting
HTTP status (requests ``HTTPError``, httpx                   ``BackendQueryError`` with the
``HTTPStatusError``; or ``status_error`` directly)           backend's own error text
a body that is not JSON (``json``/``msgspec``/requests       ``BackendProtocolError``
decode error)
connection refused, DNS, reset, TLS (requests                ``BackendUnreachable``: cannot
``ConnectionError``, httpx ``TransportError``, ``OSError``)  connect, with the cause and the fix
any other request failure                                    ``BackendUnreachable``
===========================================================  ====================================

The backend's error text is read from its body: JSON ``error`` (+ ``errorType``, Prometheus),
``error.message`` (Jaeger api_v3), ``errors[].msg`` (Jaeger v1), ``message``, a JSON string
(Alertmanager), or else the plain text (Loki), truncated to ``MAX_TEXT`` characters.
"""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import requests

from sloctl.errors import (
    BackendError,
    BackendLimitError,
    BackendProtocolError,
    BackendQueryError,
    BackendUnreachable,
)
from sloctl.sources.capped import AnswerOverCap, AnswerPastDeadline, deadline_text

__all__ = [
    "FAILURES",
    "MAX_TEXT",
    "TABLE",
    "Endpoint", "error_text", "not_json", "request_error", "status_error",
]

MAX_TEXT = 1000  # characters of a backend's error text kept in a message


@dataclass(frozen=True)
class Endpoint:
    """One backend as the messages name it, and the settings that fix each failure.

    ``name`` reads in "is <name> running?"; ``check_url`` names the URL setting; ``timeout_fix``
    follows "no answer within N s; ". ``json_errors_only``: the backend's error bodies are always
    JSON, so an error answer without one comes from something else (a proxy, a wrong port).
    """

    backend: str
    url: str
    name: str
    timeout_seconds: float
    check_url: str
    timeout_fix: str
    status_hints: Mapping[int, str] = field(default_factory=dict)
    json_errors_only: bool = False


_TIMEOUTS = (requests.exceptions.Timeout, httpx.TimeoutException, TimeoutError)

# The root cause of a connection failure, found anywhere in the exception's chain.
_CAUSES: tuple[tuple[type[BaseException], str], ...] = (
    (ConnectionRefusedError, "connection refused"),
    (socket.gaierror, "host name not found"),
    (ConnectionResetError, "connection reset"),
    (ssl.SSLError, "TLS handshake failed"),
    (TimeoutError, "timed out"),
)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception it wraps (causes, contexts, urllib3's ``reason``, args)."""
    found: list[BaseException] = []
    stack: list[Any] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or any(item is f for f in found):
            continue
        found.append(item)
        stack += [item.__cause__, item.__context__, getattr(item, "reason", None), *item.args]
    return found


def _cause(exc: BaseException) -> str:
    chain = _chain(exc)
    for kind, text in _CAUSES:
        if any(isinstance(e, kind) for e in chain):
            return text
    root = chain[-1]
    detail = str(root).strip()[:200]
    return f"{type(root).__name__}: {detail}" if detail else type(root).__name__


def _prefix(request: str | None) -> str:
    return f"{request}: " if request else ""


def _over_cap(
    exc: BaseException, e: Endpoint, query: str | None, request: str | None
) -> BackendError:
    return BackendLimitError(e.backend, f"{_prefix(request)}{exc}", query=query)


def _past_deadline(
    exc: BaseException, e: Endpoint, query: str | None, request: str | None
) -> BackendError:
    return BackendUnreachable(
        e.backend, f"{_prefix(request)}{deadline_text(e.timeout_seconds, e.timeout_fix)}",
        query=query,
    )


def _timeout(
    exc: BaseException, e: Endpoint, query: str | None, request: str | None
) -> BackendError:
    return BackendUnreachable(
        e.backend,
        f"{_prefix(request)}no answer from {e.url} within {e.timeout_seconds:g} s; "
        f"{e.timeout_fix}",
        query=query,
    )


def _connect(
    exc: BaseException, e: Endpoint, query: str | None, request: str | None
) -> BackendError:
    if any(isinstance(x, _TIMEOUTS) for x in _chain(exc)):  # e.g. urllib3's retries wrap one
        return _timeout(exc, e, query, request)
    return BackendUnreachable(
        e.backend,
        f"{_prefix(request)}cannot connect to {e.url} ({_cause(exc)}); is {e.name} running? "
        f"{e.check_url}",
        query=query,
    )


def _status(
    exc: BaseException, e: Endpoint, query: str | None, request: str | None
) -> BackendError:
    response = getattr(exc, "response", None)
    if response is None:  # an HTTPError raised by hand, without the answer
        return _connect(exc, e, query, request)
    return status_error(e, response.status_code, response.content, query=query, request=request)


def _not_json(
    exc: BaseException, e: Endpoint, query: str | None, request: str | None
) -> BackendError:
    return not_json(e, query=query, request=request)


_Mapper = Callable[[BaseException, Endpoint, str | None, str | None], BackendError]

# The table: exception types -> the typed error. Order matters (a requests ConnectTimeout is
# also a ConnectionError; requests' JSONDecodeError and the caps' exceptions are also OSErrors).
TABLE: tuple[tuple[tuple[type[BaseException], ...], _Mapper], ...] = (
    ((AnswerOverCap,), _over_cap),
    ((AnswerPastDeadline,), _past_deadline),
    (_TIMEOUTS, _timeout),
    ((requests.exceptions.HTTPError, httpx.HTTPStatusError), _status),
    ((json.JSONDecodeError, requests.exceptions.JSONDecodeError, msgspec.DecodeError,
      UnicodeDecodeError), _not_json),
    ((requests.exceptions.ConnectionError, httpx.TransportError, OSError), _connect),
    ((requests.exceptions.RequestException, httpx.HTTPError), _connect),
)
# Every exception type the table maps: ``except FAILURES`` before calling ``request_error``.
FAILURES: tuple[type[BaseException], ...] = tuple(t for kinds, _ in TABLE for t in kinds)


def request_error(
    exc: BaseException, endpoint: Endpoint, *, query: str | None = None, request: str | None = None
) -> BackendError:
    """The typed error for a failed request or answer decoding (see the module's table).

    Raises ``TypeError`` for an exception the table does not cover (a bug, not a backend
    failure: let it propagate).
    """
    for kinds, mapper in TABLE:
        if isinstance(exc, kinds):
            return mapper(exc, endpoint, query, request)
    raise TypeError(f"not a request failure: {type(exc).__name__}") from exc


def error_text(body: bytes) -> tuple[str, str | None, bool]:
    """(text, error type, recognised) of an error body; unrecognised bodies give plain text."""
    raw = body.decode("utf-8", "replace").strip()
    try:
        doc = json.loads(body) if body else None
    except ValueError:
        doc = None
    text: str | None = None
    error_type: str | None = None
    if isinstance(doc, str):
        text = doc
    elif isinstance(doc, dict):
        error = doc.get("error")
        errors = doc.get("errors")
        if isinstance(error, str):
            text, error_type = error, str(doc.get("errorType") or "") or None
        elif isinstance(error, dict) and isinstance(error.get("message"), str):
            text = error["message"]
        elif isinstance(errors, list):
            msgs = [str(x["msg"]) for x in errors if isinstance(x, dict) and x.get("msg")]
            text = "; ".join(msgs) or None
        elif isinstance(doc.get("message"), str):
            text = doc["message"]
    if text is None:
        return _truncate(raw) or "(empty body)", None, False
    return _truncate(text.strip()), error_type, True


def _truncate(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def status_error(
    endpoint: Endpoint,
    status: int,
    body: bytes,
    *,
    query: str | None = None,
    request: str | None = None,
) -> BackendError:
    """A non-success answer: ``BackendQueryError`` with the backend's own text and a hint.

    With ``json_errors_only``, a body that is not one of the backend's error documents gives a
    ``BackendProtocolError`` saying the URL may not be that backend.
    """
    text, error_type, recognised = error_text(body)
    if endpoint.json_errors_only and not recognised:
        return BackendProtocolError(
            endpoint.backend,
            f"{_prefix(request)}HTTP {status} without a {endpoint.backend} error body "
            f"({text[:200]!r}); is {endpoint.url} really {endpoint.name}? {endpoint.check_url}",
            query=query,
        )
    hint = endpoint.status_hints.get(status)
    kind = f" {error_type}" if error_type else ""
    return BackendQueryError(
        endpoint.backend,
        f"{_prefix(request)}HTTP {status}{kind}: {text}" + (f" ({hint})" if hint else ""),
        status=status,
        error_type=error_type,
        query=query,
    )


def not_json(
    endpoint: Endpoint, *, query: str | None = None, request: str | None = None
) -> BackendProtocolError:
    """A success answer whose body is not JSON: probably not the backend at all."""
    return BackendProtocolError(
        endpoint.backend,
        f"{_prefix(request)}answered with a body that is not JSON; is {endpoint.url} really "
        f"{endpoint.name}? {endpoint.check_url}",
        query=query,
    )
