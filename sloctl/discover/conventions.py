"""The metric conventions ``sloctl discover`` looks for, as plain values (pure: no I/O).

Each convention names one latency histogram (base name, unit from its suffix) and the counter of
all requests, and says which spec preset reads it. The HTTP and spanmetrics conventions come
from ``sloctl.spec.presets``; gRPC has no preset, so discover writes plain ``SLO`` documents.
"""

from __future__ import annotations

from dataclasses import dataclass

from sloctl.spec.models import Matcher, unit_of
from sloctl.spec.presets import PRESETS, HttpPreset

# gRPC status codes a server answers for its own failures (OpenTelemetry's gRPC conventions
# mark these server spans as errors): UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL,
# UNAVAILABLE, DATA_LOSS.
GRPC_SERVER_ERROR_CODES = "2|4|12|13|14|15"
GRPC_SERVER_ERROR_NAMES = "UNKNOWN|DEADLINE_EXCEEDED|UNIMPLEMENTED|INTERNAL|UNAVAILABLE|DATA_LOSS"


@dataclass(frozen=True)
class StatusLabel:
    """A label that carries the outcome of a request, and the regex of its error values."""

    label: str
    error_regex: str


@dataclass(frozen=True)
class Convention:
    """One way a request histogram lands in Prometheus."""

    key: str
    description: str
    histogram: str  # base name, without _bucket/_count/_sum
    counter: str  # the series counting every request
    preset: str | None  # the spec preset that reads it; None: plain SLO documents
    status: tuple[StatusLabel, ...]  # the first one present on the series is used
    selector: tuple[Matcher, ...] = ()  # matchers every query needs (server spans only)
    required_labels: tuple[str, ...] = ()  # labels that tell this convention from a namesake
    rank: int = 0  # lower wins when a service shows several conventions

    @property
    def unit(self) -> float:
        """Seconds per histogram unit (0.001 for ``_milliseconds``)."""
        unit = unit_of(self.histogram)
        assert unit is not None, f"convention {self.key}: histogram without a unit suffix"
        return unit

    @property
    def unit_name(self) -> str:
        return "ms" if self.unit == 0.001 else "s"

    @property
    def bucket_metric(self) -> str:
        return f"{self.histogram}_bucket"

    @property
    def counter_is_histogram_count(self) -> bool:
        return self.counter == f"{self.histogram}_count"


def _from_preset(preset: HttpPreset, rank: int, required: tuple[str, ...] = ()) -> Convention:
    return Convention(
        key=preset.name,
        description=preset.description,
        histogram=preset.histogram,
        counter=preset.counter,
        preset=preset.name,
        status=(StatusLabel(preset.status_label, preset.error_regex),),
        selector=preset.base_selector,
        required_labels=required,
        rank=rank,
    )


_SPAN_LABELS = ("span_name", "span_kind")

CONVENTIONS: tuple[Convention, ...] = (
    _from_preset(PRESETS["otel-http"], 0),
    _from_preset(PRESETS["otel-http-legacy"], 1),
    _from_preset(PRESETS["prometheus-http"], 2),
    _from_preset(PRESETS["spanmetrics"], 5, _SPAN_LABELS),
    _from_preset(PRESETS["spanmetrics-ms"], 6, _SPAN_LABELS),
    _from_preset(PRESETS["spanmetrics-bare"], 7, _SPAN_LABELS),
    _from_preset(PRESETS["spanmetrics-bare-ms"], 8, _SPAN_LABELS),
    Convention(
        key="otel-grpc",
        description="OpenTelemetry RPC semconv (stable): rpc_server_call_duration_seconds",
        histogram="rpc_server_call_duration_seconds",
        counter="rpc_server_call_duration_seconds_count",
        preset=None,
        status=(
            StatusLabel("rpc_response_status_code", GRPC_SERVER_ERROR_NAMES),
            StatusLabel("rpc_grpc_status_code", GRPC_SERVER_ERROR_CODES),
        ),
        rank=3,
    ),
    Convention(
        key="otel-grpc-legacy",
        description="OpenTelemetry RPC semconv before the stable one: "
        "rpc_server_duration_milliseconds",
        histogram="rpc_server_duration_milliseconds",
        counter="rpc_server_duration_milliseconds_count",
        preset=None,
        status=(StatusLabel("rpc_grpc_status_code", GRPC_SERVER_ERROR_CODES),),
        rank=4,
    ),
)


def convention(key: str) -> Convention:
    """The convention called ``key`` (KeyError listing the known ones otherwise)."""
    for conv in CONVENTIONS:
        if conv.key == key:
            return conv
    raise KeyError(f"unknown convention {key!r}; known: {', '.join(c.key for c in CONVENTIONS)}")


def looked_for() -> list[str]:
    """Every metric name discover asks Prometheus about, in a stable order."""
    names: dict[str, None] = {}
    for conv in CONVENTIONS:
        names[conv.bucket_metric] = None
        names[conv.counter] = None
    return list(names)


def present(conventions: tuple[Convention, ...], names: set[str]) -> list[Convention]:
    """The conventions whose histogram or counter is among ``names`` (metric names found)."""
    return [c for c in conventions if c.bucket_metric in names or c.counter in names]


def status_label(conv: Convention, labels: set[str]) -> StatusLabel | None:
    """The first of the convention's status labels that the series carry."""
    return next((s for s in conv.status if s.label in labels), None)


def describe_conventions() -> str:
    """One line per convention: key, histogram and counter (for --help and 'nothing found')."""
    return "\n".join(f"{c.key}: {c.histogram}, {c.counter}" for c in CONVENTIONS)
