"""Prometheus adapter: concurrent instant queries at one evaluation timestamp.

Over httpx, one pooled client per source (closed by ``close()``). Every answer is streamed
within the caps of ``prometheus.max_bytes``, ``max_series`` and ``max_labels_per_series``
(``sources.capped``), and must be complete within ``timeout_seconds``: a hostile or runaway
answer is abandoned, its values unknown with a problem naming the cap. Every failure becomes a
typed ``BackendError`` for that query only (``sources.http_errors``), so one bad answer never
sinks a cycle. A refused connection, 502, 503 and 504 are retried once; nothing is logged per
retry (the error, if it stays, is the query's problem).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import msgspec

from sloctl.core.samples import Sample
from sloctl.errors import BackendError, BackendProtocolError, BackendUnreachable
from sloctl.settings import PrometheusSettings
from sloctl.sources.capped import Caps, read_capped
from sloctl.sources.http_errors import FAILURES, Endpoint, not_json, request_error, status_error

__all__ = ["BACKEND", "PrometheusSource", "QueryResult", "RangeSeries", "Sample"]

BACKEND = "prometheus"
STATUS_HINTS = {
    400: "the query is invalid; fix the PromQL in the SLO spec",
    422: "Prometheus could not execute the query; check the PromQL and its data",
    503: "Prometheus is overloaded or timed out; retry later or raise the timeout",
}
RETRY_STATUSES = (502, 503, 504)
SERIES_MARKER = b'"metric":'  # once per series of a query answer: counted while downloading
RETRY_PAUSE_SECONDS = 0.2
TIMEOUT_FIX = "raise prometheus.timeout_seconds (SLOCTL_PROMETHEUS_TIMEOUT) or check the server"


QueryResult = list[Sample] | BackendError


class _Envelope(msgspec.Struct):
    status: str = ""
    data: msgspec.Raw = msgspec.Raw()  # empty when the answer has none


class _Result(msgspec.Struct):
    resultType: str = ""  # Prometheus' field name
    result: list[msgspec.Raw] | None = None


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range-query (matrix) result: (unix seconds, value) points in time order."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


def caps_of(settings: PrometheusSettings) -> Caps:
    """The answer caps of ``settings``, with the settings named in the messages."""
    return Caps(
        BACKEND,
        max_bytes=settings.max_bytes,
        bytes_setting="prometheus.max_bytes, SLOCTL_PROMETHEUS_MAX_BYTES",
        max_series=settings.max_series,
        series_setting="prometheus.max_series, SLOCTL_PROMETHEUS_MAX_SERIES",
        max_labels=settings.max_labels_per_series,
        labels_setting="prometheus.max_labels_per_series",
    )


class PrometheusSource:
    """Runs PromQL instant queries against one Prometheus-compatible HTTP API."""

    def __init__(
        self, settings: PrometheusSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.url = settings.url.rstrip("/")
        self.caps = caps_of(settings)
        self.endpoint = Endpoint(
            BACKEND,
            self.url,
            name="Prometheus",
            timeout_seconds=settings.timeout_seconds,
            check_url="Check prometheus.url / SLOCTL_PROMETHEUS_URL",
            timeout_fix=TIMEOUT_FIX,
            status_hints=STATUS_HINTS,
        )
        pool = max(settings.max_concurrency, 1)
        self._http = httpx.Client(
            base_url=self.url,
            headers={"Accept": "application/json", **settings.request_headers},
            auth=settings.basic_auth,
            timeout=settings.timeout_seconds,
            transport=transport or httpx.HTTPTransport(
                retries=1, limits=httpx.Limits(max_connections=pool)
            ),
        )
        self._lock = threading.Lock()
        self._closed = False
        self.queries_sent = 0

    def query(self, promql: str, at: datetime) -> list[Sample]:
        """One instant query evaluated at ``at``; raises a ``BackendError`` subclass."""
        params = {"query": promql, "time": f"{at.timestamp():.3f}", "timeout": self._timeout()}
        return parse_vector(self._results("/api/v1/query", params, promql), promql, self.caps)

    def query_range(
        self, promql: str, start: datetime, end: datetime, step_seconds: int
    ) -> list[RangeSeries]:
        """A range query over ``[start, end]`` at ``step_seconds``; raises a ``BackendError``."""
        params = {
            "query": promql, "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}", "step": f"{step_seconds}s",
            "timeout": self._timeout(),
        }
        return parse_matrix(
            self._results("/api/v1/query_range", params, promql), promql, self.caps
        )

    # --- Metadata APIs (sloctl discover, validate --live): always with match[] selectors. ---

    def label_names(self, match: Sequence[str], start: datetime, end: datetime) -> list[str]:
        """Label names of the series matching any of ``match`` in ``[start, end]``."""
        what = f"GET /api/v1/labels {_describe_match(match)}"
        data = self._data("/api/v1/labels", _match_params(match, start, end), what)
        return _strings(data, what, self.caps)

    def label_values(
        self, name: str, match: Sequence[str], start: datetime, end: datetime
    ) -> list[str]:
        """Values of label ``name`` on the series matching any of ``match`` in ``[start, end]``."""
        what = f"GET /api/v1/label/{name}/values {_describe_match(match)}"
        data = self._data(
            f"/api/v1/label/{name}/values", _match_params(match, start, end), what
        )
        return _strings(data, what, self.caps)

    def series(
        self, match: Sequence[str], start: datetime, end: datetime
    ) -> list[dict[str, str]]:
        """Label sets of the series matching any of ``match`` in ``[start, end]``."""
        what = f"GET /api/v1/series {_describe_match(match)}"
        data = self._data("/api/v1/series", _match_params(match, start, end), what)
        if not isinstance(data, list) or not all(isinstance(s, dict) for s in data):
            raise BackendProtocolError(BACKEND, "series answer is not a list of label sets",
                                       query=what)
        self.caps.check_series(len(data), what)
        return [{str(k): str(v) for k, v in s.items()} for s in data]

    def metadata(self, metric: str) -> list[dict[str, str]]:
        """Type, unit and help of ``metric`` from the scrape targets (empty when unknown, e.g.
        backfilled or remote-written series)."""
        what = f"GET /api/v1/metadata metric={metric}"
        data = self._data("/api/v1/metadata", [("metric", metric)], what)
        if not isinstance(data, dict):
            raise BackendProtocolError(BACKEND, "metadata answer is not an object", query=what)
        return [
            {"type": str(m.get("type", "")), "unit": str(m.get("unit", "")),
             "help": str(m.get("help", ""))}
            for m in data.get(metric, ())
            if isinstance(m, dict)
        ]

    def _timeout(self) -> str:
        return f"{max(int(self.settings.timeout_seconds * 1000), 1)}ms"

    # --- transport ---

    def _results(self, path: str, params: Mapping[str, str], promql: str) -> list[Any]:
        """``data.result`` of a query answer, its series counted against the cap before any of
        them is decoded."""
        raw = self._raw_data(path, list(params.items()), promql)
        try:
            result = msgspec.json.decode(raw, type=_Result).result
        except msgspec.ValidationError as exc:
            raise _lacks_result(exc, promql) from exc
        if result is None:
            raise _lacks_result(None, promql)
        self.caps.check_series(len(result), promql)
        return [msgspec.json.decode(item) for item in result]

    def _data(self, path: str, params: list[tuple[str, str]], what: str) -> Any:
        return msgspec.json.decode(self._raw_data(path, params, what))

    def _raw_data(self, path: str, params: list[tuple[str, str]], what: str) -> msgspec.Raw:
        """``data`` of a successful answer, undecoded; raises a typed ``BackendError``."""
        body = self._get(path, params, what)
        try:
            envelope = msgspec.json.decode(body, type=_Envelope)
        except (msgspec.DecodeError, UnicodeDecodeError):
            raise not_json(self.endpoint, query=what) from None
        if not envelope.data:
            raise _lacks_result(None, what)
        return envelope.data

    def _get(self, path: str, params: list[tuple[str, str]], what: str) -> bytes:
        """The body of a 200 answer, read within the caps and the timeout."""
        with self._lock:
            if self._closed:
                raise BackendUnreachable(
                    BACKEND, f"not sent to {self.url}: this client is closed (sloctl is stopping)",
                    query=what,
                )
            self.queries_sent += 1
        deadline = time.monotonic() + self.settings.timeout_seconds
        for attempt in range(2):
            try:
                with self._http.stream("GET", path, params=tuple(params)) as answer:
                    status = answer.status_code
                    body = read_capped(
                        answer.iter_bytes(), self.caps, deadline=deadline,
                        timeout_seconds=self.settings.timeout_seconds, timeout_fix=TIMEOUT_FIX,
                        query=what, series_marker=SERIES_MARKER,
                    )
            except FAILURES as exc:
                raise request_error(exc, self.endpoint, query=what) from exc
            retry = status in RETRY_STATUSES and attempt == 0
            if not retry or time.monotonic() + RETRY_PAUSE_SECONDS > deadline:
                break
            time.sleep(RETRY_PAUSE_SECONDS)
        if status != 200:
            raise status_error(self.endpoint, status, body, query=what)
        return body

    def query_many(
        self,
        queries: Sequence[str],
        at: datetime,
        on_done: Callable[[int, int], None] | None = None,
    ) -> dict[str, QueryResult]:
        """Run distinct queries concurrently, all at the same timestamp ``at``.

        ``on_done(done, total)`` is called after each query finishes (for progress bars).
        """
        unique = list(dict.fromkeys(queries))
        if not unique:
            return {}
        workers = min(max(self.settings.max_concurrency, 1), len(unique))

        def run(q: str) -> QueryResult:
            try:
                return self.query(q, at)
            except BackendError as exc:
                return exc

        results: dict[str, QueryResult] = {}
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="promql") as pool:
            futures = {pool.submit(run, q): q for q in unique}
            for n, fut in enumerate(as_completed(futures), start=1):
                results[futures[fut]] = fut.result()
                if on_done:
                    on_done(n, len(unique))
        return results

    def close(self) -> None:
        """Release pooled connections; later requests fail at once with ``BackendUnreachable``."""
        with self._lock:
            self._closed = True
        self._http.close()


def _lacks_result(exc: Exception | None, promql: str) -> BackendProtocolError:
    detail = f" ({exc})" if exc is not None else ""
    return BackendProtocolError(
        BACKEND, f"answer lacks data.result{detail}; not a Prometheus query API answer",
        query=promql,
    )


def parse_vector(data: Any, promql: str, caps: Caps | None = None) -> list[Sample]:
    """Turn ``data.result`` of an instant query into samples; NaN values are dropped. With
    ``caps``, a series with more labels than allowed raises ``BackendLimitError``."""
    if not isinstance(data, list):
        raise BackendProtocolError(
            BACKEND, f"expected an instant vector, got {type(data).__name__}; the query must "
            "return a vector (aggregate with sum by (...))", query=promql)
    out: list[Sample] = []
    for item in data:
        try:
            labels = item["metric"]
            raw = item["value"][1]
            value = float(raw)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise BackendProtocolError(
                BACKEND, f"malformed sample {str(item)[:200]!r} ({exc!r})", query=promql
            ) from exc
        if not isinstance(labels, dict):
            raise BackendProtocolError(BACKEND, "sample labels are not an object", query=promql)
        if caps is not None:
            caps.check_labels(len(labels), promql)
        if math.isnan(value):
            continue
        out.append(Sample({str(k): str(v) for k, v in labels.items()}, value))
    return out


def parse_matrix(data: Any, promql: str, caps: Caps | None = None) -> list[RangeSeries]:
    """Turn ``data.result`` of a range query into series; NaN points are dropped."""
    if not isinstance(data, list):
        raise BackendProtocolError(
            BACKEND, f"expected a range vector, got {type(data).__name__}", query=promql
        )
    out: list[RangeSeries] = []
    for item in data:
        try:
            labels = {str(k): str(v) for k, v in item["metric"].items()}
            points = tuple((float(t), float(v)) for t, v in item["values"])
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise BackendProtocolError(
                BACKEND, f"malformed series {str(item)[:200]!r} ({exc!r})", query=promql
            ) from exc
        if caps is not None:
            caps.check_labels(len(labels), promql)
        out.append(RangeSeries(labels, tuple(p for p in points if not math.isnan(p[1]))))
    return out


def _match_params(
    match: Sequence[str], start: datetime, end: datetime
) -> list[tuple[str, str]]:
    return [*(("match[]", m) for m in match), ("start", f"{start.timestamp():.3f}"),
            ("end", f"{end.timestamp():.3f}")]


def _describe_match(match: Sequence[str]) -> str:
    return " ".join(f"match[]={m}" for m in match)


def _strings(data: Any, what: str, caps: Caps) -> list[str]:
    if not isinstance(data, list):
        raise BackendProtocolError(BACKEND, "expected a list of strings", query=what)
    caps.check_series(len(data), what)
    return [str(v) for v in data]
