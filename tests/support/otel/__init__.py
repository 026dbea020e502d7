"""A real OpenTelemetry-instrumented service scraped by a real Prometheus, for tests (issue #9).

Pieces (each usable alone):

- ``app.py``: a FastAPI service instrumented with the official packages
  (``FastAPIInstrumentor``, SDK ``MeterProvider`` + ``PrometheusMetricReader``), run as its own
  process; routes ``/ok`` (200), ``/fail`` (500), ``/slow?ms=N`` (200 after N ms).
- :class:`~tests.support.otel.service.AppSpec` / :class:`~tests.support.otel.service.OtelApp`:
  one service in a mode: ``semconv`` ``"http"`` (``http_server_request_duration_seconds``),
  ``"old"`` (``http_server_duration_milliseconds``) or ``"http/dup"`` (both); ``view=True`` adds
  an SDK View whose buckets include 0.3 s / 300 ms; ``service_namespace``, ``job``,
  ``resource_labels``.
- :class:`~tests.support.otel.load.LoadDriver` and :class:`~tests.support.otel.load.Mix`:
  steady traffic of known counts (ok / fail / slow 420 ms / between 270 ms) over a duration, in
  the background; ``Load.stop()`` stops it; the :class:`~tests.support.otel.load.LoadResult` is
  the ground truth (by status, by latency class via ``count_le``).
- :class:`~tests.support.otel.prometheus.ScrapingPrometheus` (Debian's Prometheus 2.42, scrape
  jobs of our naming, optional rule files) and :class:`~tests.support.otel.prometheus.PromApi`
  (query, series, labels, metadata, ``wait_for``, ``wait_for_scrape``);
  :func:`~tests.support.otel.prometheus.extrapolated_increase` gives the exact value of
  ``increase()`` over known samples.
- :class:`~tests.support.otel.stack.OtelStack`: apps + Prometheus started together (apps warmed
  up so every series exists from the first scrape), stopped together.
- ``tests/support/otel_fixtures.py``: the pytest fixtures ``otel_stack_config`` (override it in a
  module), ``otel_stack`` (module scope) and ``otel_load`` (starts loads, stops them after the
  test).

From another test module::

    from tests.support.otel import AppSpec, Mix, StackConfig

    @pytest.fixture(scope="module")
    def otel_stack_config() -> StackConfig:          # overrides the default config
        return StackConfig(apps=(AppSpec("checkout", semconv="http", view=True),))

    def test_x(otel_stack: OtelStack, otel_load: OtelLoad) -> None:
        base = otel_stack.last_scrapes()["checkout"]              # counters before the load
        result = otel_load("checkout", Mix(ok=40, fail=4, slow=6), duration=4.0).wait()
        end = otel_stack.wait_for_scrapes(after=result.finished_at + 0.05)["checkout"]
        # query otel_stack.api (or point sloctl at otel_stack.prometheus.url) at `end`,
        # compare with result.total, result.errors_5xx, result.count_le(0.3)
        load = otel_load("checkout", Mix(ok=1000), duration=60.0)  # background traffic ...
        load.stop()                                                  # ... stopped
"""

from tests.support.otel.load import KINDS, Kind, Load, LoadDriver, LoadResult, Mix
from tests.support.otel.prometheus import (
    PromApi,
    ScrapingPrometheus,
    extrapolated_increase,
    raw_delta,
)
from tests.support.otel.service import (
    VIEW_MILLISECONDS,
    VIEW_MILLISECONDS_INT,
    VIEW_SECONDS,
    AppSpec,
    OtelApp,
)
from tests.support.otel.stack import WARM_UP_PATHS, OtelStack, StackConfig

__all__ = [
    "KINDS",
    "VIEW_MILLISECONDS",
    "VIEW_MILLISECONDS_INT",
    "VIEW_SECONDS",
    "WARM_UP_PATHS",
    "AppSpec",
    "Kind",
    "Load",
    "LoadDriver",
    "LoadResult",
    "Mix",
    "OtelApp",
    "OtelStack",
    "PromApi",
    "ScrapingPrometheus",
    "StackConfig",
    "extrapolated_increase",
    "raw_delta",
]
