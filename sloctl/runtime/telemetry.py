"""The OpenTelemetry SDK for sloctl's own traces, set up only by the daemon and the CLI entry.

Library code (the evaluation cycle, the query fetch, the webhook handler) uses only the
OpenTelemetry API (``trace.get_tracer(__name__)``); its spans are no-ops until ``install_tracing``
sets the process's tracer provider. Without ``telemetry.otlp_endpoint`` nothing is installed: no
SDK objects, no thread. With one, ended spans are queued for a BatchSpanProcessor thread whose
OTLP/HTTP requests give up after ``telemetry.timeout_seconds``, so a slow or unreachable
collector never blocks sloctl, and ``Tracing.shutdown()`` returns within
``SHUTDOWN_BUDGET_SECONDS`` (the exporter alone retries for about 14 s when nothing listens).

OpenTelemetry lets a process set its tracer provider once: ``install_tracing`` is for the
process's entry point (``sloctl serve``, ``sloctl eval``), not for libraries embedding sloctl,
which keep their own provider (sloctl's spans then go to it).
"""

from __future__ import annotations

import logging
import threading

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from sloctl import __version__
from sloctl.settings import Settings, TelemetrySettings

__all__ = [
    "SHUTDOWN_BUDGET_SECONDS",
    "Tracing",
    "install_tracing",
    "tracer_provider",
    "traces_url",
]

SHUTDOWN_BUDGET_SECONDS = 1.5
MAX_ATTRIBUTE_LENGTH = 2048  # long PromQL/LogQL texts are truncated, not dropped
TRACES_PATH = "/v1/traces"

log = logging.getLogger(__name__)


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL for a base ``endpoint``; one already ending in /v1/traces stays."""
    endpoint = endpoint.rstrip("/")
    return endpoint if endpoint.endswith(TRACES_PATH) else endpoint + TRACES_PATH


def tracer_provider(config: TelemetrySettings) -> TracerProvider | None:
    """A provider exporting to ``config.otlp_endpoint`` (not installed), or None without one.

    Registers no atexit hook: shut it down with ``Tracing.shutdown()``.
    """
    if config.otlp_endpoint is None:
        return None
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
    return provider


class Tracing:
    """The SDK sloctl installed, to shut down when it stops; ``Tracing()`` is off."""

    def __init__(self, provider: TracerProvider | None = None, endpoint: str | None = None) -> None:
        self.provider = provider
        self.endpoint = endpoint
        self._closed = False

    @property
    def enabled(self) -> bool:
        """True while spans are exported."""
        return self.provider is not None and not self._closed

    def shutdown(self, timeout_seconds: float = SHUTDOWN_BUDGET_SECONDS) -> bool:
        """Export what is queued and stop, returning after ``timeout_seconds`` at most.

        Returns False when the export did not finish in time: the spans still unsent are
        dropped (the export thread is a daemon and gives up on its own after
        ``telemetry.timeout_seconds``). Safe to call twice.
        """
        if self.provider is None or self._closed:
            return True
        self._closed = True
        stopper = threading.Thread(
            target=self.provider.shutdown, name="sloctl-telemetry-shutdown", daemon=True
        )
        stopper.start()
        stopper.join(timeout_seconds)
        if stopper.is_alive():
            log.warning(
                "sloctl's traces could not be sent to %s within %.1f s; the unsent spans are "
                "dropped. Check telemetry.otlp_endpoint (SLOCTL_OTLP_ENDPOINT) or unset it.",
                self.endpoint,
                timeout_seconds,
            )
            return False
        return True


def install_tracing(settings: Settings | TelemetrySettings) -> Tracing:
    """Install the SDK as the process's tracer provider from ``telemetry`` settings.

    Off (nothing installed) without ``telemetry.otlp_endpoint``. When the process already has a
    tracer provider, it is kept and sloctl's spans go to it (with a warning).
    """
    config = settings.telemetry if isinstance(settings, Settings) else settings
    provider = tracer_provider(config)
    if provider is None:
        return Tracing()
    endpoint = traces_url(str(config.otlp_endpoint))
    trace.set_tracer_provider(provider)
    if trace.get_tracer_provider() is not provider:
        provider.shutdown()
        log.warning(
            "this process already has an OpenTelemetry tracer provider: sloctl's spans go to it, "
            "not to %s",
            endpoint,
        )
        return Tracing()
    return Tracing(provider, endpoint)
