"""Jaeger query adapter: api_v3 for services, operations and search; v1 for a trace and deps.

Follows reference backends.md section 3: snake_case api_v3 parameter names (accepted by every
version), RFC3339Nano times, error bodies that are JSON sent as text/plain, and a 404 from an
api_v3 search that means "no traces" rather than an error. Every failure is a typed
``BackendError`` whose message says how to fix it (the shared table of ``sources.http_errors``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx
import msgspec

from sloctl.core.spans import DependencyEdge, SpanColumns, normalize_trace_id
from sloctl.errors import BackendProtocolError, SloctlError
from sloctl.settings import JaegerSettings
from sloctl.sources.capped import Caps, read_capped
from sloctl.sources.http_errors import FAILURES, Endpoint, request_error, status_error
from sloctl.sources.jaeger_parse import ParseError, parse_api_v3_traces, parse_v1_traces

BACKEND = "jaeger"
SEARCH_PATH = "/api/v3/traces"
_STORAGE = "check the Jaeger query service and its storage"
STATUS_HINTS = {
    400: "check the parameters",
    404: "check the trace id and Jaeger's retention",
    500: _STORAGE,
    502: _STORAGE,
    503: _STORAGE,
    504: _STORAGE,
}


@dataclass(frozen=True)
class Operation:
    """One operation of a service as api_v3 lists it."""

    name: str
    span_kind: str  # "server", "client", ...; Jaeger reports an empty kind as "internal"


def rfc3339_nano(at: datetime) -> str:
    """``2024-05-01T10:00:00.000000000Z``: the time format of api_v3 query parameters."""
    if at.tzinfo is None:
        raise ValueError("timezone-aware datetime required, e.g. datetime.now(UTC)")
    utc = at.astimezone(UTC)
    return f"{utc:%Y-%m-%dT%H:%M:%S}.{utc.microsecond * 1000:09d}Z"


def go_duration(seconds: float) -> str:
    """A Go duration string in whole microseconds (``0.25`` -> ``"250000us"``)."""
    return f"{round(seconds * 1_000_000)}us"


def check_trace_id(text: str) -> str:
    """The normalized 32-hex trace id; raises ``SloctlError`` (exit 2) for a malformed one."""
    try:
        return normalize_trace_id(text)
    except ValueError as exc:
        raise SloctlError(str(exc)) from None


class JaegerSource:
    """A client of one Jaeger query service (``jaeger.url``, port 16686 by default)."""

    def __init__(
        self, settings: JaegerSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.caps = Caps(BACKEND, settings.max_bytes, "jaeger.max_bytes")
        self.url = settings.url.rstrip("/")
        self.ui_url = settings.effective_ui_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url, timeout=settings.timeout_seconds, transport=transport
        )
        # Jaeger's error bodies are always JSON (sent as text/plain): any other error body
        # comes from something that is not the query service.
        self.endpoint = Endpoint(
            BACKEND,
            self.url,
            name="the Jaeger query service",
            timeout_seconds=settings.timeout_seconds,
            check_url="Check jaeger.url / SLOCTL_JAEGER_URL (default port 16686)",
            timeout_fix="raise jaeger.timeout_seconds or check the Jaeger query service",
            status_hints=STATUS_HINTS,
            json_errors_only=True,
        )

    def __enter__(self) -> JaegerSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections."""
        self._http.close()

    def trace_url(self, trace_id: str) -> str:
        """The Jaeger UI page of a trace: ``<ui_url>/trace/<32-hex id>``."""
        return f"{self.ui_url}/trace/{check_trace_id(trace_id)}"

    def services(self) -> list[str]:
        """Every service name Jaeger knows (``GET /api/v3/services``)."""
        data = self._json("/api/v3/services")
        services = data.get("services", [])
        if not isinstance(services, list) or not all(isinstance(s, str) for s in services):
            raise self._protocol("/api/v3/services", '"services" is not a list of names')
        return sorted(services)

    def operations(self, service: str) -> list[Operation]:
        """The operations of one service (``GET /api/v3/operations?service=``)."""
        path = "/api/v3/operations"
        data = self._json(path, {"service": service})
        try:
            return [
                Operation(str(o["name"]), str(o.get("spanKind", "")))
                for o in data.get("operations", [])
            ]
        except (TypeError, KeyError, AttributeError):
            raise self._protocol(path, '"operations" is not a list of {name, spanKind}') from None

    def search(
        self,
        service: str,
        start: datetime,
        end: datetime,
        *,
        operation: str | None = None,
        min_duration_seconds: float | None = None,
        limit: int = 100,
        attributes: Mapping[str, str] | None = None,
    ) -> SpanColumns:
        """Spans of up to ``limit`` traces of ``service`` that started in ``[start, end]``.

        An api_v3 404 ("No traces found") gives empty columns. ``attributes`` needs Jaeger
        >= v2.19 (older versions ignore it).
        """
        body = self._search_body(
            service, start, end, operation, min_duration_seconds, limit, attributes
        )
        if body is None:
            return SpanColumns()
        try:
            return parse_api_v3_traces(body)
        except ParseError as exc:
            raise self._protocol(SEARCH_PATH, str(exc)) from None

    def _search_body(
        self,
        service: str,
        start: datetime,
        end: datetime,
        operation: str | None,
        min_duration_seconds: float | None,
        limit: int,
        attributes: Mapping[str, str] | None,
    ) -> bytes | None:
        params: dict[str, str] = {
            "query.service_name": service,
            "query.start_time_min": rfc3339_nano(start),
            "query.start_time_max": rfc3339_nano(end),
            "query.num_traces": str(limit),
        }
        if operation:
            params["query.operation_name"] = operation
        if min_duration_seconds is not None:
            params["query.duration_min"] = go_duration(min_duration_seconds)
        if attributes:
            params["query.attributes"] = json.dumps(dict(attributes), separators=(",", ":"))
        answer = self._get(SEARCH_PATH, params, not_found_is_empty=True)
        return None if answer is None else answer.content

    def trace(self, trace_id: str) -> SpanColumns:
        """Every span of one trace (v1 ``GET /api/traces/{id}``; 16 or 32 hex characters)."""
        normalized = check_trace_id(trace_id)
        path = f"/api/traces/{normalized}"
        answer = self._get(path, {})
        assert answer is not None
        try:
            return parse_v1_traces(answer.content)
        except ParseError as exc:
            raise self._protocol(path, str(exc)) from None

    def dependencies(self, end: datetime, lookback_seconds: float) -> list[DependencyEdge]:
        """Service call counts over ``lookback_seconds`` before ``end`` (v1 dependencies)."""
        path = "/api/dependencies"
        params = {
            "endTs": str(int(end.timestamp() * 1000)),
            "lookback": str(int(lookback_seconds * 1000)),
        }
        data = self._json(path, params)
        try:
            edges = [
                DependencyEdge(str(d["parent"]), str(d["child"]), int(d["callCount"]))
                for d in data.get("data") or []
            ]
        except (TypeError, KeyError, ValueError, AttributeError):
            raise self._protocol(
                path, '"data" is not a list of {parent, child, callCount}'
            ) from None
        return sorted(edges, key=lambda e: (-e.calls, e.parent, e.child))

    # -- HTTP plumbing ---------------------------------------------------------------------

    def _json(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        answer = self._get(path, params or {})
        assert answer is not None
        try:
            data = msgspec.json.decode(answer.content)
        except msgspec.DecodeError as exc:
            query = f"GET {path}"
            raise request_error(exc, self.endpoint, query=query, request=query) from None
        if not isinstance(data, dict):
            raise self._protocol(path, "the answer is not a JSON object")
        return data

    def _get(
        self, path: str, params: Mapping[str, str], *, not_found_is_empty: bool = False
    ) -> httpx.Response | None:
        query = f"GET {path}"
        timeout = self.settings.timeout_seconds
        try:
            with self._http.stream("GET", path, params=params) as streamed:
                body = read_capped(
                    streamed.iter_bytes(), self.caps, deadline=time.monotonic() + timeout,
                    timeout_seconds=timeout, timeout_fix=self.endpoint.timeout_fix, query=query,
                )
                answer = httpx.Response(streamed.status_code, content=body,
                                        headers=streamed.headers, request=streamed.request)
        except FAILURES as exc:
            raise request_error(exc, self.endpoint, query=query) from exc
        if answer.status_code == 200:
            return answer
        if answer.status_code == 404 and not_found_is_empty:
            return None
        raise status_error(
            self.endpoint, answer.status_code, answer.content, query=query, request=query
        )

    def _protocol(self, path: str, what: str) -> BackendProtocolError:
        return BackendProtocolError(
            BACKEND,
            f"GET {path}: {what}; is {self.url} really the Jaeger query service "
            "(HTTP port 16686)? Check jaeger.url / SLOCTL_JAEGER_URL",
            query=f"GET {path}",
        )
