"""Prometheus adapter: concurrent instant queries at one evaluation timestamp.

Built on prometheus-api-client, through its public API only: it sends the requests on a
``requests.Session`` this source owns (our retry adapter mounted on it, closed by ``close()``).
Every failure becomes a typed ``BackendError`` for that query only (``sources.http_errors``), so
one bad answer never sinks a cycle. The client reports an error status without its body, so a
response hook on the session keeps the failing answer, and its status and body are read there.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from prometheus_api_client import PrometheusConnect
from prometheus_api_client.exceptions import PrometheusApiClientException
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sloctl.core.samples import Sample
from sloctl.errors import BackendError, BackendProtocolError, BackendQueryError, BackendUnreachable
from sloctl.settings import PrometheusSettings
from sloctl.sources.http_errors import FAILURES, Endpoint, request_error, status_error

__all__ = ["BACKEND", "PrometheusSource", "QueryResult", "RangeSeries", "Sample"]

BACKEND = "prometheus"
STATUS_HINTS = {
    400: "the query is invalid; fix the PromQL in the SLO spec",
    422: "Prometheus could not execute the query; check the PromQL and its data",
    503: "Prometheus is overloaded or timed out; retry later or raise the timeout",
}


QueryResult = list[Sample] | BackendError


@dataclass(frozen=True)
class RangeSeries:
    """One series of a range-query (matrix) result: (unix seconds, value) points in time order."""

    labels: Mapping[str, str]
    points: tuple[tuple[float, float], ...]


class PrometheusSource:
    """Runs PromQL instant queries against one Prometheus-compatible HTTP API."""

    def __init__(self, settings: PrometheusSettings) -> None:
        self.settings = settings
        self.url = settings.url.rstrip("/")
        self.endpoint = Endpoint(
            BACKEND,
            self.url,
            name="Prometheus",
            timeout_seconds=settings.timeout_seconds,
            check_url="Check prometheus.url / SLOCTL_PROMETHEUS_URL",
            timeout_fix="raise prometheus.timeout_seconds (SLOCTL_PROMETHEUS_TIMEOUT) or check "
            "the server",
            status_hints=STATUS_HINTS,
        )
        self._session = session = requests.Session()
        self._answers = threading.local()  # the failing answer of this thread's last request
        session.hooks["response"].append(self._keep_failed_answer)
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
        self._closed = False
        self.queries_sent = 0

    def _keep_failed_answer(self, response: requests.Response, *_: Any, **__: Any) -> None:
        """Response hook: keep a non-200 answer for ``_call`` (the client drops its body)."""
        if response.status_code != 200:
            self._answers.failed = response

    def query(self, promql: str, at: datetime) -> list[Sample]:
        """One instant query evaluated at ``at``; raises a ``BackendError`` subclass."""
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
            if self._closed:
                raise BackendUnreachable(
                    BACKEND, f"not sent to {self.url}: this client is closed (sloctl is stopping)",
                    query=promql,
                )
            self.queries_sent += 1
        self._answers.failed = None
        try:
            return request()
        except PrometheusApiClientException as exc:
            raise self._status_error(promql) from exc
        except FAILURES as exc:
            raise request_error(exc, self.endpoint, query=promql) from exc
        except (KeyError, TypeError) as exc:
            raise BackendProtocolError(
                BACKEND, f"answer lacks data.result ({exc!r}); not a Prometheus query API answer",
                query=promql,
            ) from exc
        finally:
            self._answers.failed = None

    def _status_error(self, promql: str) -> BackendError:
        """The error of the non-200 answer the response hook kept."""
        answer: requests.Response | None = self._answers.failed
        if answer is None:  # not seen by the hook: should not happen, say what is known
            return BackendQueryError(
                BACKEND, f"{self.url} answered with an error status", status=0, query=promql
            )
        return status_error(self.endpoint, answer.status_code, answer.content, query=promql)

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
        self._session.close()


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
