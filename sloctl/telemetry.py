"""sloctl's own traces: evaluation cycles, backend queries and webhooks, sent over OTLP/HTTP.

``setup_telemetry(settings)`` returns a ``Telemetry``. Without ``telemetry.otlp_endpoint`` it is
off: no SDK objects, no thread, and ``span()`` yields a shared non-recording span. With an
endpoint, ended spans are queued for a BatchSpanProcessor thread whose OTLP/HTTP requests give up
after ``telemetry.timeout_seconds``, so a slow or unreachable collector never blocks sloctl, and
``shutdown()`` returns within ``SHUTDOWN_BUDGET_SECONDS``.

Span names are fixed (low cardinality); attributes follow the OpenTelemetry conventions where
one fits (``server.address``, ``server.port``, ``http.request.method``, ``url.path``,
``error.type``) and are ``sloctl.*`` otherwise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from urllib.parse import urlsplit

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import INVALID_SPAN, Span, SpanKind

from sloctl import __version__
from sloctl.settings import Settings, TelemetrySettings

__all__ = [
    "CYCLE_SPAN",
    "QUERY_SPAN",
    "SHUTDOWN_BUDGET_SECONDS",
    "WEBHOOK_SPAN",
    "AttributeValue",
    "Span",
    "SpanKind",
    "Telemetry",
    "setup_telemetry",
    "traces_url",
]

SHUTDOWN_BUDGET_SECONDS = 1.5
MAX_ATTRIBUTE_LENGTH = 2048  # long PromQL/LogQL texts are truncated, not dropped
CYCLE_SPAN = "sloctl.evaluation_cycle"
QUERY_SPAN = "sloctl.backend_query"
WEBHOOK_SPAN = "sloctl.webhook"
TRACES_PATH = "/v1/traces"

AttributeValue = str | bool | int | float | Sequence[str] | Sequence[int] | Sequence[float]

_log = logging.getLogger(__name__)


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a base ``endpoint``; one already ending in /v1/traces stays."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


def setup_telemetry(settings: Settings | TelemetrySettings) -> Telemetry:
    """A ``Telemetry`` exporting to ``telemetry.otlp_endpoint``, or a no-op one without it.

    Does not touch the global OpenTelemetry tracer provider and registers no atexit hook: call
    ``shutdown()`` when sloctl stops.
    """
    config = settings.telemetry if isinstance(settings, Settings) else settings
    if config.otlp_endpoint is None:
        return Telemetry()
    exporter = OTLPSpanExporter(
        endpoint=traces_url(config.otlp_endpoint), timeout=config.timeout_seconds
    )
    resource = Resource.create(
        {"service.name": config.service_name, "service.version": __version__}
    )
    provider = TracerProvider(
        resource=resource,
        span_limits=SpanLimits(max_attribute_length=MAX_ATTRIBUTE_LENGTH),
        shutdown_on_exit=False,
    )
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return Telemetry(provider, endpoint=traces_url(config.otlp_endpoint))


class Telemetry:
    """Creates sloctl's spans; build it with ``setup_telemetry``. ``Telemetry()`` is off."""

    def __init__(self, provider: TracerProvider | None = None, endpoint: str | None = None) -> None:
        self._provider = provider
        self._endpoint = endpoint
        self._tracer = provider.get_tracer("sloctl", __version__) if provider else None
        self._closed = False

    @property
    def enabled(self) -> bool:
        """True when spans are recorded and exported."""
        return self._tracer is not None and not self._closed

    @contextmanager
    def span(
        self,
        name: str,
        attributes: Mapping[str, AttributeValue | None] | None = None,
        *,
        kind: SpanKind = SpanKind.INTERNAL,
        parent: Span | None = None,
        **sloctl_attributes: AttributeValue | None,
    ) -> Iterator[Span]:
        """A span around the ``with`` block; the current span becomes its parent.

        ``attributes`` take full names (``server.address``); keyword arguments become
        ``sloctl.<name>``. ``None`` values are left out. ``parent`` links a span started in
        another thread (thread pools do not carry the current span). An exception is recorded
        on the span, with ``error.type`` and an error status, and re-raised.
        """
        if not self.enabled:
            yield INVALID_SPAN
            return
        assert self._tracer is not None
        merged = {k: v for k, v in (attributes or {}).items() if v is not None}
        merged.update({f"sloctl.{k}": v for k, v in sloctl_attributes.items() if v is not None})
        context = trace.set_span_in_context(parent) if parent is not None else None
        with self._tracer.start_as_current_span(
            name, context=context, kind=kind, attributes=merged
        ) as span:
            try:
                yield span
            except BaseException as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                raise

    def cycle(
        self, *, slo_count: int, service_count: int | None = None
    ) -> AbstractContextManager[Span]:
        """Span of one evaluation cycle (collect, compute, persist, notify)."""
        attributes = {
            "sloctl.cycle.slo_count": slo_count,
            "sloctl.cycle.service_count": service_count,
        }
        return self.span(CYCLE_SPAN, attributes)

    def query(
        self,
        backend: str,
        url: str,
        *,
        query: str | None = None,
        window: str | None = None,
        parent: Span | None = None,
    ) -> AbstractContextManager[Span]:
        """Client span of one backend request; ``backend`` is "prometheus", "jaeger" or "loki".

        ``url`` is the backend's base URL: only its host and port are recorded.
        """
        parts = urlsplit(url)
        attributes: dict[str, AttributeValue | None] = {
            "server.address": parts.hostname,
            "server.port": parts.port or (443 if parts.scheme == "https" else 80),
            "sloctl.backend": backend,
            "sloctl.query.text": query,
            "sloctl.query.window": window,
        }
        return self.span(QUERY_SPAN, attributes, kind=SpanKind.CLIENT, parent=parent)

    def webhook(self, source: str, *, path: str | None = None) -> AbstractContextManager[Span]:
        """Server span of one incoming webhook; ``source`` is e.g. "alertmanager" or "deploy".

        Set the outcome on the yielded span: ``span.set_attribute("http.response.status_code",
        202)`` and, for Alertmanager, ``"sloctl.webhook.alert_count"``.
        """
        attributes = {
            "http.request.method": "POST",
            "url.path": path,
            "sloctl.webhook.source": source,
        }
        return self.span(WEBHOOK_SPAN, attributes, kind=SpanKind.SERVER)

    def shutdown(self, timeout_seconds: float = SHUTDOWN_BUDGET_SECONDS) -> None:
        """Export what is queued and stop, returning after ``timeout_seconds`` at most.

        Spans still unsent then are dropped (the export thread is a daemon and gives up on its
        own after ``telemetry.timeout_seconds``). Safe to call twice; later spans are no-ops.
        """
        if self._provider is None or self._closed:
            return
        self._closed = True
        stopper = threading.Thread(
            target=self._provider.shutdown, name="sloctl-telemetry-shutdown", daemon=True
        )
        stopper.start()
        stopper.join(timeout_seconds)
        if stopper.is_alive():
            _log.warning(
                "sloctl's traces could not be sent to %s within %.1f s; the unsent spans are "
                "dropped. Check telemetry.otlp_endpoint (SLOCTL_OTLP_ENDPOINT) or unset it.",
                self._endpoint,
                timeout_seconds,
            )
