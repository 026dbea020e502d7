"""Prometheus adapter: concurrent instant queries at one evaluation timestamp.

Built on prometheus-api-client, through its public API only (``PrometheusConnect`` and its
``custom_query``, ``custom_query_range``, ``get_label_names``, ``get_label_values``,
``get_series`` and ``get_metric_metadata``): it sends every request on a ``requests.Session``
this source owns and closes (``close()``). The caps live in that session: ``CappedAdapter``
(``sources.capped_requests``), mounted on it, reads every answer as it downloads within
``prometheus.max_bytes``, ``max_series`` (the ``"metric":`` marker count) and the whole-answer
deadline of ``timeout_seconds``, before the library decodes it; ``max_labels_per_series`` is
checked on the decoded series. A hostile or runaway answer is abandoned, its values unknown
with a problem naming the cap. Every failure becomes a typed ``BackendError`` for that query
only (``sources.http_errors``), so one bad answer never sinks a cycle. A connection error, 502,
503 and 504 are retried once; nothing is logged per retry.

Every request (queries, range queries, labels, series, metadata) carries the settings' headers
(``prometheus.headers``, the bearer token, the tenant header of ``prometheus.tenant``) and
``partial_response`` when ``prometheus.partial_response`` is set (a session parameter, so no
call can miss it). An answer whose envelope carries ``warnings`` (Thanos answering from part of
its stores, or a PromQL warning) is not used: that query's values are unknown and the warnings
are its ``BackendQueryError`` (HTTP 200, error type ``warnings``), the cycle's problem.
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

from sloctl.core.samples import Sample
from sloctl.errors import BackendError, BackendProtocolError, BackendQueryError, BackendUnreachable
from sloctl.settings import PrometheusSettings
from sloctl.sources.capped import Caps
from sloctl.sources.capped_requests import AnswerWithWarnings, CappedAdapter
from sloctl.sources.http_errors import FAILURES, MAX_TEXT, Endpoint, request_error

__all__ = ["BACKEND", "PrometheusSource", "QueryResult", "RangeSeries", "Sample"]

BACKEND = "prometheus"
STATUS_HINTS = {
    400: "the query is invalid; fix the PromQL in the SLO spec",
    422: "Prometheus could not execute the query; check the PromQL and its data",
    503: "Prometheus is overloaded or timed out; retry later or raise the timeout",
}
SERIES_MARKER = b'"metric":'  # once per series of a query answer: counted while downloading
WARNINGS_MARKER = b'"warnings"'  # in the body: the envelope is read for its warnings list
PARTIAL_SETTING = "prometheus.partial_response (SLOCTL_PROMETHEUS_PARTIAL_RESPONSE)"
TIMEOUT_FIX = "raise prometheus.timeout_seconds (SLOCTL_PROMETHEUS_TIMEOUT) or check the server"


QueryResult = list[Sample] | BackendError


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

    def __init__(self, settings: PrometheusSettings) -> None:
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
        session = requests.Session()  # verifies TLS (the library's disable_ssl is for its own)
        session.auth = settings.basic_auth
        session.params = settings.query_params  # partial_response on every request, when set
        self._client = PrometheusConnect(
            url=self.url, headers=dict(settings.request_headers), disable_ssl=False,
            session=session,
        )
        # PrometheusConnect mounts its own adapter (3 retries, no caps) on the URL: ours replaces
        # it there, and takes every other URL too, so no request leaves the caps
        adapter = CappedAdapter(
            self.caps, timeout_seconds=settings.timeout_seconds, series_marker=SERIES_MARKER,
            pool=max(settings.max_concurrency, 1), warnings_marker=WARNINGS_MARKER,
        )
        for prefix in ("http://", "https://", self.url):
            session.mount(prefix, adapter)
        self._lock = threading.Lock()
        self._closed = False
        self.queries_sent = 0

    def query(self, promql: str, at: datetime) -> list[Sample]:
        """One instant query evaluated at ``at``; raises a ``BackendError`` subclass."""
        params = {"time": f"{at.timestamp():.3f}", "timeout": self._timeout()}
        data = self._call(promql, lambda: self._client.custom_query(promql, params=params))
        return parse_vector(data, promql, self.caps)

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
        return parse_matrix(data, promql, self.caps)

    # --- Metadata APIs (sloctl discover, validate --live): always with match[] selectors. ---

    def label_names(self, match: Sequence[str], start: datetime, end: datetime) -> list[str]:
        """Label names of the series matching any of ``match`` in ``[start, end]``."""
        params = _match_params(match, start, end)
        what = f"GET /api/v1/labels {_describe_match(match)}"
        data = self._call(what, lambda: self._client.get_label_names(params))
        return _strings(data, what, self.caps)

    def label_values(
        self, name: str, match: Sequence[str], start: datetime, end: datetime
    ) -> list[str]:
        """Values of label ``name`` on the series matching any of ``match`` in ``[start, end]``."""
        params = _match_params(match, start, end)
        what = f"GET /api/v1/label/{name}/values {_describe_match(match)}"
        data = self._call(what, lambda: self._client.get_label_values(name, params))
        return _strings(data, what, self.caps)

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
        self.caps.check_series(len(data), what)
        return [{str(k): str(v) for k, v in s.items()} for s in data]

    def metadata(self, metric: str) -> list[dict[str, str]]:
        """Type, unit and help of ``metric`` from the scrape targets (empty when unknown, e.g.
        backfilled or remote-written series)."""
        what = f"GET /api/v1/metadata metric={metric}"
        data = self._call(what, lambda: self._client.get_metric_metadata(metric))
        if not isinstance(data, list):
            raise BackendProtocolError(BACKEND, "metadata answer is not a list", query=what)
        return [
            {"type": str(m.get("type", "")), "unit": str(m.get("unit", "")),
             "help": str(m.get("help", ""))}
            for m in data
            if isinstance(m, dict) and m.get("metric_name") == metric
        ]

    def _timeout(self) -> str:
        return f"{max(int(self.settings.timeout_seconds * 1000), 1)}ms"

    def _call(self, what: str, request: Callable[[], Any]) -> Any:
        """Send one request through the library; every failure becomes a typed
        ``BackendError`` (the caps' included: ``CappedAdapter`` raises them while reading)."""
        with self._lock:
            if self._closed:
                raise BackendUnreachable(
                    BACKEND, f"not sent to {self.url}: this client is closed (sloctl is stopping)",
                    query=what,
                )
            self.queries_sent += 1
        try:
            return request()
        except AnswerWithWarnings as exc:
            raise self._warned(exc.warnings, what) from exc
        except FAILURES as exc:
            raise request_error(exc, self.endpoint, query=what) from exc
        except PrometheusApiClientException as exc:  # not raised: the adapter answers 200 only
            raise BackendQueryError(BACKEND, f"{self.url} answered with an error status",
                                    status=0, query=what) from exc
        except (KeyError, TypeError, AttributeError) as exc:  # the library indexes the JSON
            raise BackendProtocolError(
                BACKEND, f"answer lacks data.result ({exc!r}); not a Prometheus query API answer",
                query=what,
            ) from exc

    def _warned(self, warnings: tuple[str, ...], what: str) -> BackendQueryError:
        """The error of an answer that came with ``warnings``: its values are not used."""
        shown = "; ".join(warnings[:3]) + (f" (and {len(warnings) - 3} more)"
                                           if len(warnings) > 3 else "")
        if len(shown) > MAX_TEXT:
            shown = shown[:MAX_TEXT] + "…"
        partial = self.settings.partial_response
        if partial is None:
            fix = (f"on Thanos, set {PARTIAL_SETTING} to false so that such a query fails "
                   "instead of answering from the stores it reached")
        elif partial:
            fix = (f"{PARTIAL_SETTING} is true, so Thanos answers from the stores it reached; "
                   "check the stores the warnings name, or set it to false")
        else:
            fix = "check the stores or tenants the warnings name"
        return BackendQueryError(
            BACKEND,
            f"the answer came with warnings, so it may be partial (stores or tenants missing) "
            f"and its values are unknown this cycle: {shown}; {fix}",
            status=200, error_type="warnings", query=what,
        )

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
        self._client.close()  # closes our session and its pooled connections


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


def _match_params(match: Sequence[str], start: datetime, end: datetime) -> dict[str, Any]:
    return {"match[]": list(match), "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}"}


def _describe_match(match: Sequence[str]) -> str:
    return " ".join(f"match[]={m}" for m in match)


def _strings(data: Any, what: str, caps: Caps) -> list[str]:
    if not isinstance(data, list):
        raise BackendProtocolError(BACKEND, "expected a list of strings", query=what)
    caps.check_series(len(data), what)
    return [str(v) for v in data]
