"""sloctl's computed results in the Prometheus text format, served on ``/metrics``.

Prometheus scrapes what sloctl computes (SLIs, budgets, burn rates, golden signals, alert states,
DORA figures: ``service.dora_metrics``) so Grafana can chart it next to the raw metrics. Only
the latest evaluation is exposed; a value that could not be measured is omitted, never 0.

    server = MetricsServer("sqlite:///sloctl.db", port=9464).start()
    ...
    server.stop()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.core.slo import SLOStatus
from sloctl.core.windows import window_name
from sloctl.dora.gauges import DoraSource, dora_families
from sloctl.errors import SloctlError
from sloctl.store.dora_results import StoredScorecard

log = logging.getLogger(__name__)

EvaluationSource = Callable[[], Evaluation | None]
SLO_LABELS = ("slo_id", "service", "slo")
ALERT_LABELS = ("key", "rule", "service", "severity", "slo_id")


def _slo_values(s: SLOStatus) -> list[str]:
    return [s.slo_id, s.service, s.name]


class EvaluationCollector(Collector):
    """A ``prometheus_client`` collector over the latest evaluation given by ``source`` and the
    latest DORA scorecards given by ``dora``."""

    def __init__(self, source: EvaluationSource, dora: DoraSource | None = None) -> None:
        self._source = source
        self._dora = dora

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self._dora is not None:
            yield from dora_families(self._dora())
        ev = self._source()
        if ev is None:
            return
        yield from _evaluation_families(ev)
        yield from _slo_families(ev)
        yield _signal_family(ev)
        yield from _alert_families(ev)


def _gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def _evaluation_families(ev: Evaluation) -> Iterator[GaugeMetricFamily]:
    at = _gauge("sloctl_evaluation_timestamp_seconds", "Instant of the latest evaluation.")
    at.add_metric([], ev.at.timestamp())
    duration = _gauge(
        "sloctl_evaluation_duration_seconds", "Wall-clock time the latest evaluation took."
    )
    duration.add_metric([], (ev.finished_at - ev.started_at).total_seconds())
    problems = _gauge(
        "sloctl_evaluation_problems", "Problems (backend errors) in the latest evaluation."
    )
    problems.add_metric([], float(len(ev.problems)))
    queries = _gauge("sloctl_evaluation_queries", "Backend queries the latest evaluation issued.")
    queries.add_metric([], float(ev.query_count))
    yield from (at, duration, problems, queries)


def _slo_families(ev: Evaluation) -> Iterator[GaugeMetricFamily]:
    objective = _gauge("sloctl_slo_objective", "SLO objective as a ratio (0..1).", SLO_LABELS)
    period = _gauge("sloctl_slo_period_seconds", "Length of the SLO window.", SLO_LABELS)
    remaining = _gauge(
        "sloctl_slo_error_budget_remaining",
        "Share of the error budget left over the SLO window (negative when overspent).",
        SLO_LABELS,
    )
    remaining_minutes = _gauge(
        "sloctl_slo_error_budget_remaining_minutes",
        "Error budget left over the SLO window, in minutes of full outage.",
        SLO_LABELS,
    )
    breaching = _gauge(
        "sloctl_slo_breaching", "1 when the SLI is below the objective, else 0.", SLO_LABELS
    )
    window_labels = (*SLO_LABELS, "window")
    sli = _gauge("sloctl_slo_sli", "Good / total events over a window (0..1).", window_labels)
    error_ratio = _gauge(
        "sloctl_slo_error_ratio", "Bad / total events over a window (0..1).", window_labels
    )
    burn = _gauge(
        "sloctl_slo_burn_rate", "Error ratio / error budget over a window.", window_labels
    )
    rule_labels = (*SLO_LABELS, "severity", "long_window", "short_window")
    rule_firing = _gauge(
        "sloctl_slo_burn_rate_rule_firing",
        "1 when both windows of a multiwindow burn-rate rule burn faster than its factor.",
        rule_labels,
    )
    for s in ev.slos:
        labels = _slo_values(s)
        objective.add_metric(labels, s.objective)
        period.add_metric(labels, float(s.period))
        if s.budget_remaining is not None:
            remaining.add_metric(labels, s.budget_remaining)
        if s.budget_remaining_minutes is not None:
            remaining_minutes.add_metric(labels, s.budget_remaining_minutes)
        if s.breaching is not None:
            breaching.add_metric(labels, float(s.breaching))
        for w in s.windows:
            wl = [*labels, window_name(w.window)]
            for family, value in ((sli, w.sli), (error_ratio, w.error_ratio), (burn, w.burn_rate)):
                if value is not None:
                    family.add_metric(wl, value)
        for d in s.decisions:
            if d.firing is not None:
                rl = [
                    *labels,
                    str(d.rule.severity),
                    window_name(d.rule.long_window),
                    window_name(d.rule.short_window),
                ]
                rule_firing.add_metric(rl, float(d.firing))
    yield from (objective, period, remaining, remaining_minutes, breaching, sli, error_ratio)
    yield from (burn, rule_firing)


def _signal_family(ev: Evaluation) -> GaugeMetricFamily:
    family = _gauge(
        "sloctl_signal",
        "Golden signal of a service (traffic req/s, error_ratio 0..1, latency_* s, saturation).",
        ("service", "signal"),
    )
    for sv in ev.signals:
        if sv.value is not None:
            family.add_metric([sv.service, str(sv.signal)], sv.value)
    return family


def _alert_families(ev: Evaluation) -> Iterator[GaugeMetricFamily]:
    state = _gauge(
        "sloctl_alert_state",
        "1 for the current state of an alert instance, 0 for the other states.",
        (*ALERT_LABELS, "state"),
    )
    value = _gauge("sloctl_alert_value", "Value the alert condition measured last.", ALERT_LABELS)
    threshold = _gauge("sloctl_alert_threshold", "Threshold of the alert condition.", ALERT_LABELS)
    for a in ev.alerts:
        labels = [a.key, a.rule, a.service, a.severity, a.slo_id or ""]
        for candidate in AlertState:
            state.add_metric([*labels, str(candidate)], float(candidate is a.state))
        if a.value is not None:
            value.add_metric(labels, a.value)
        threshold.add_metric(labels, a.threshold)
    yield from (state, value, threshold)


def render_metrics(ev: Evaluation | None, dora: Sequence[StoredScorecard] = ()) -> bytes:
    """The evaluation and DORA scorecards in the Prometheus text format (empty when neither)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EvaluationCollector(lambda: ev, lambda: dora))
    return generate_latest(registry)


class _Handler(BaseHTTPRequestHandler):
    server: _MetricsHTTPServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            try:
                body = generate_latest(self.server.registry)
            except SloctlError as err:  # the store is down: say so, Prometheus marks `up` 0
                self._reply(503, f"cannot read the latest evaluation: {err}\n".encode())
                return
            except Exception:  # a bug: log it, answer 500 rather than drop the connection
                log.exception("rendering /metrics failed")
                self._reply(500, b"rendering /metrics failed; see sloctl's log\n")
                return
            self._reply(200, body, CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            self._reply(200, b"ok\n")
        else:
            self._reply(404, b"not found: sloctl serves GET /metrics and GET /healthz\n")

    def _reply(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("metrics %s: " + format, self.client_address[0], *args)


class _MetricsHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], registry: CollectorRegistry) -> None:
        self.registry = registry
        super().__init__(address, _Handler)


class MetricsServer:
    """Serve ``GET /metrics`` and ``GET /healthz`` on a background thread.

    ``source`` is a store URL (the latest stored evaluation and DORA scorecards are read on
    every scrape) or a callable returning the evaluation to expose, with ``dora`` returning the
    DORA scorecards. ``port=0`` picks a free port (see ``url``).
    """

    def __init__(
        self,
        source: str | EvaluationSource,
        host: str = "127.0.0.1",
        port: int = 0,
        dora: DoraSource | None = None,
    ) -> None:
        self._source = source
        self._dora = dora
        self.host = host
        self.port = port
        self._store: Any = None
        self._httpd: _MetricsHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:9464`` (the bound port once started)."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> MetricsServer:
        """Bind and serve; raises SloctlError when the address is taken or the store unusable."""
        if self._httpd is not None:
            return self
        dora = self._dora
        if isinstance(self._source, str):
            from sloctl.store import Store
            from sloctl.store.dora_results import DoraResults

            self._store = Store(self._source)
            read: EvaluationSource = self._store.latest_evaluation
            dora = dora or DoraResults(self._store.engine).latest
        else:
            read = self._source
        registry = CollectorRegistry(auto_describe=False)
        registry.register(EvaluationCollector(read, dora))
        try:
            self._httpd = _MetricsHTTPServer((self.host, self.port), registry)
        except OSError as err:
            self._close_store()
            raise SloctlError(
                f"cannot serve /metrics on {self.host}:{self.port}: {err.strerror or err}; "
                "choose another port or stop the process using it"
            ) from err
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="sloctl-metrics", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (and the store, if opened here). Safe to repeat."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._close_store()

    def _close_store(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            store.close()

    def __enter__(self) -> MetricsServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
