"""Prometheus adapter: concurrent instant queries at one evaluation timestamp.

Built on prometheus-api-client (session, auth, retries); every failure becomes a typed
``BackendError`` for that query only, so one bad answer never sinks a cycle.
"""

from __future__ import annotations

import ast
import json
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sloctl.core.samples import Sample
from sloctl.errors import (
    BackendError,
    BackendProtocolError,
    BackendQueryError,
    BackendUnreachable,
)
from sloctl.settings import PrometheusSettings

if TYPE_CHECKING:
    from sloctl.telemetry import Telemetry

__all__ = ["BACKEND", "PrometheusSource", "QueryResult", "RangeSeries", "Sample"]

BACKEND = "prometheus"
_STATUS = re.compile(r"^HTTP Status Code (\d+) \((b(['\"]).*\3)\)$", re.DOTALL)


QueryResult = list[Sample] | BackendError


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range-query (matrix) result: (unix seconds, value) points in time order."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


class PrometheusSource:
    """Runs PromQL instant queries against one Prometheus-compatible HTTP API."""

    def __init__(self, settings: PrometheusSettings, telemetry: Telemetry | None = None) -> None:
        self.settings = settings
        self.telemetry = telemetry
        self.url = settings.url.rstrip("/")
        session = requests.Session()
        retry = Retry(
            total=1,
            connect=1,
            read=0,
            backoff_factor=0.2,
            status_forcelist=(502, 503, 504),
            allowed_methods=frozenset({"GET", "POST"}),
            raise_on_status=False,
        )
        pool = max(settings.max_concurrency, 1)
        adapter = HTTPAdapter(max_retries=retry, pool_connections=pool, pool_maxsize=pool)
        self._client = PrometheusConnect(
            url=self.url,
            headers=settings.request_headers or None,
            auth=settings.basic_auth,
            session=session,
            timeout=settings.timeout_seconds,
        )
        # PrometheusConnect mounts its own adapter (3 retries) on the URL: use ours instead
        session.mount(self.url, adapter)
        self._lock = threading.Lock()
        self.queries_sent = 0

    def query(self, promql: str, at: datetime, parent: Any = None) -> list[Sample]:
        """One instant query evaluated at ``at``; raises a ``BackendError`` subclass.

        With telemetry on, the request is a client span (child of ``parent``, if given).
        """
        if self.telemetry is not None and self.telemetry.enabled:
            with self.telemetry.query(BACKEND, self.url, query=promql, parent=parent):
                return self._query(promql, at)
        return self._query(promql, at)

    def _query(self, promql: str, at: datetime) -> list[Sample]:
        params = {"time": f"{at.timestamp():.3f}", "timeout": self._timeout()}
        data = self._call(promql, lambda: self._client.custom_query(promql, params=params))
        return parse_vector(data, promql)

    def query_range(
        self, promql: str, start: datetime, end: datetime, step_seconds: int
    ) -> list[RangeSeries]:
        """A range query over ``[start, end]`` at ``step_seconds``; raises a ``BackendError``."""
        params = {"timeout": self._timeout()}
        data = self._call(
            promql,
            lambda: self._client.custom_query_range(
                promql, start, end, f"{step_seconds}s", params=params
            ),
        )
        return parse_matrix(data, promql)

    # --- Metadata APIs (sloctl discover, validate --live): always with match[] selectors. ---

    def label_names(self, match: Sequence[str], start: datetime, end: datetime) -> list[str]:
        """Label names of the series matching any of ``match`` in ``[start, end]``."""
        params = _match_params(match, start, end)
        what = f"GET /api/v1/labels {_describe_match(match)}"
        return _strings(self._call(what, lambda: self._client.get_label_names(params)), what)

    def label_values(
        self, name: str, match: Sequence[str], start: datetime, end: datetime
    ) -> list[str]:
        """Values of label ``name`` on the series matching any of ``match`` in ``[start, end]``."""
        params = _match_params(match, start, end)
        what = f"GET /api/v1/label/{name}/values {_describe_match(match)}"
        data = self._call(what, lambda: self._client.get_label_values(name, params))
        return _strings(data, what)

    def series(
        self, match: Sequence[str], start: datetime, end: datetime
    ) -> list[dict[str, str]]:
        """Label sets of the series matching any of ``match`` in ``[start, end]``."""
        params: dict[str, Any] = {"match[]": list(match)}
        what = f"GET /api/v1/series {_describe_match(match)}"
        data = self._call(what, lambda: self._client.get_series(start, end, params))
        if not isinstance(data, list) or not all(isinstance(s, dict) for s in data):
            raise BackendProtocolError(BACKEND, "series answer is not a list of label sets",
                                       query=what)
        return [{str(k): str(v) for k, v in s.items()} for s in data]

    def metadata(self, metric: str) -> list[dict[str, str]]:
        """Type, unit and help of ``metric`` from the scrape targets (empty when unknown, e.g.
        backfilled or remote-written series)."""
        what = f"GET /api/v1/metadata metric={metric}"
        data = self._call(what, lambda: self._client.get_metric_metadata(metric))
        if not isinstance(data, list):
            raise BackendProtocolError(BACKEND, "metadata answer is not an object", query=what)
        return [
            {"type": str(m.get("type", "")), "unit": str(m.get("unit", "")),
             "help": str(m.get("help", ""))}
            for m in data
            if isinstance(m, dict) and m.get("metric_name") == metric
        ]

    def _timeout(self) -> str:
        return f"{max(int(self.settings.timeout_seconds * 1000), 1)}ms"

    def _call(self, promql: str, request: Callable[[], Any]) -> Any:
        """Send one request; every failure becomes a typed ``BackendError``."""
        with self._lock:
            self.queries_sent += 1
        try:
            return request()
        except PrometheusApiClientException as exc:
            raise _query_error(str(exc), promql) from exc
        except requests.exceptions.JSONDecodeError as exc:
            raise BackendProtocolError(
                BACKEND, f"answered with a body that is not JSON ({exc}); is {self.url} really "
                "a Prometheus API? Check prometheus.url / SLOCTL_PROMETHEUS_URL", query=promql,
            ) from exc
        except (requests.exceptions.Timeout, requests.exceptions.ConnectionError) as exc:
            cause = _root_cause(exc)
            if isinstance(exc, requests.exceptions.ReadTimeout) or cause == "timed out":
                raise BackendUnreachable(
                    BACKEND, f"no answer from {self.url} within {self.settings.timeout_seconds} "
                    "s; raise prometheus.timeout_seconds (SLOCTL_PROMETHEUS_TIMEOUT) or check "
                    "the server", query=promql,
                ) from exc
            raise BackendUnreachable(
                BACKEND, f"cannot connect to {self.url} ({cause}); is Prometheus "
                "running? Check prometheus.url / SLOCTL_PROMETHEUS_URL", query=promql,
            ) from exc
        except requests.exceptions.RequestException as exc:
            raise BackendUnreachable(BACKEND, f"request to {self.url} failed: {exc}",
                                     query=promql) from exc
        except (KeyError, TypeError) as exc:
            raise BackendProtocolError(
                BACKEND, f"answer lacks data.result ({exc!r}); not a Prometheus query API answer",
                query=promql,
            ) from exc

    def query_many(
        self,
        queries: Sequence[str],
        at: datetime,
        on_done: Callable[[int, int], None] | None = None,
        parent: Any = None,
    ) -> dict[str, QueryResult]:
        """Run distinct queries concurrently, all at the same timestamp ``at``.

        ``on_done(done, total)`` is called after each query finishes (for progress bars);
        ``parent`` is the telemetry span the query spans belong to.
        """
        unique = list(dict.fromkeys(queries))
        if not unique:
            return {}
        workers = min(max(self.settings.max_concurrency, 1), len(unique))

        def run(q: str) -> QueryResult:
            try:
                return self.query(q, at, parent)
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
        """Release pooled connections."""
        self._client._session.close()


def parse_vector(data: Any, promql: str) -> list[Sample]:
    """Turn ``data.result`` of an instant query into samples; NaN values are dropped."""
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
        if math.isnan(value):
            continue
        out.append(Sample({str(k): str(v) for k, v in labels.items()}, value))
    return out


def parse_matrix(data: Any, promql: str) -> list[RangeSeries]:
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
        out.append(RangeSeries(labels, tuple(p for p in points if not math.isnan(p[1]))))
    return out


def _match_params(match: Sequence[str], start: datetime, end: datetime) -> dict[str, Any]:
    return {"match[]": list(match), "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}"}


def _describe_match(match: Sequence[str]) -> str:
    return " ".join(f"match[]={m}" for m in match)


def _strings(data: Any, what: str) -> list[str]:
    if not isinstance(data, list):
        raise BackendProtocolError(BACKEND, "expected a list of strings", query=what)
    return [str(v) for v in data]


def _query_error(message: str, promql: str) -> BackendError:
    """Map prometheus-api-client's non-200 exception to a typed error with Prometheus' text."""
    m = _STATUS.match(message)
    if not m:
        return BackendQueryError(BACKEND, message, status=0, query=promql)
    status = int(m.group(1))
    body: bytes = ast.literal_eval(m.group(2))
    error_type = None
    text = body.decode("utf-8", "replace").strip()[:500]
    try:
        doc = json.loads(body)
        if isinstance(doc, dict) and "error" in doc:
            error_type = str(doc.get("errorType") or "") or None
            text = str(doc["error"])
    except ValueError:
        text = f"non-JSON error body: {text!r}" if text else "empty error body"
    hint = {
        400: "the query is invalid; fix the PromQL in the SLO spec",
        422: "Prometheus could not execute the query; check the PromQL and its data",
        503: "Prometheus is overloaded or timed out; retry later or raise the timeout",
    }.get(status, "")
    msg = f"HTTP {status}" + (f" {error_type}" if error_type else "") + f": {text}"
    return BackendQueryError(
        BACKEND, f"{msg}" + (f" ({hint})" if hint else ""), status=status,
        error_type=error_type, query=promql,
    )


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ or exc.__context__:
        nxt = exc.__cause__ or exc.__context__
        assert nxt is not None
        exc = nxt
    text = str(exc)
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    if isinstance(exc, TimeoutError) or "timed out" in text:
        return "timed out"
    return text[:200]
