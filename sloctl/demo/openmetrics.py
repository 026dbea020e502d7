"""Write a :class:`~sloctl.demo.scenario.Scenario` as OpenMetrics text for promtool backfill.

The output is what ``promtool tsdb create-blocks-from openmetrics`` (2.42) reads: families not
interleaved, ``# TYPE``/``# UNIT``/``# HELP`` in that order, the counter family
``process_cpu_seconds`` with ``process_cpu_seconds_total`` samples, the histogram family
``http_server_request_duration_seconds`` with ``_bucket``/``_sum``/``_count`` samples, every series
at every sample time (timestamps in whole unix **seconds**, increasing per series, one series after
the other), and ``# EOF`` last.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sloctl.demo.scenario import (
    CPU_COUNTER,
    CPU_FAMILY,
    HISTOGRAM,
    FloatArray,
    Sampling,
    Scenario,
    SeriesKey,
)

_HEADERS = {
    HISTOGRAM: (
        f"# TYPE {HISTOGRAM} histogram\n# UNIT {HISTOGRAM} seconds\n"
        f"# HELP {HISTOGRAM} Duration of HTTP server requests.\n"
    ),
    CPU_FAMILY: (
        f"# TYPE {CPU_FAMILY} counter\n# UNIT {CPU_FAMILY} seconds\n"
        f"# HELP {CPU_FAMILY} Total user and system CPU time spent in seconds.\n"
    ),
}


@dataclass(frozen=True)
class WriteStats:
    """What :func:`write_openmetrics` wrote."""

    path: Path
    series: int
    samples: int
    bytes: int
    seconds: float
    sample_times: FloatArray


def _format_values(key: SeriesKey, values: FloatArray) -> list[str]:
    """Counts print as integers, ``_sum`` and CPU seconds as the shortest exact float."""
    if key.metric.endswith(("_bucket", "_count")):
        return [str(v) for v in values.astype(np.int64).tolist()]
    return [repr(v) for v in values.tolist()]


def _family_chunks(scenario: Scenario, family: str, times: FloatArray) -> Iterator[str]:
    stamps = [f" {t}\n" for t in times.astype(np.int64).tolist()]
    yield _HEADERS[family]
    for service in scenario.service_names:
        if family == CPU_FAMILY:
            values = {SeriesKey(CPU_COUNTER, service): scenario.cpu_values(service, times)}
        else:
            values = scenario.values(service, times)
            del values[SeriesKey(CPU_COUNTER, service)]
        for key, series in values.items():
            prefix = key.render() + " "
            lines = [
                prefix + v + s for v, s in zip(_format_values(key, series), stamps, strict=True)
            ]
            yield "".join(lines)


def iter_openmetrics(scenario: Scenario, times: FloatArray) -> Iterator[str]:
    """The OpenMetrics text in chunks (one per series), ending with ``# EOF``."""
    if np.any(np.diff(times) <= 0) or np.any(times != np.floor(times)):
        raise ValueError("sample times must be strictly increasing whole seconds")
    yield from _family_chunks(scenario, HISTOGRAM, times)
    yield from _family_chunks(scenario, CPU_FAMILY, times)
    yield "# EOF\n"


def write_openmetrics(
    scenario: Scenario, path: Path, *, sampling: Sampling | None = None
) -> WriteStats:
    """Write ``scenario`` sampled at ``sampling.times(scenario)`` to ``path``."""
    began = time.perf_counter()
    times = (sampling or Sampling()).times(scenario)
    n_series = len(scenario.series())
    path.parent.mkdir(parents=True, exist_ok=True)
    size = 0
    with path.open("w", encoding="ascii", newline="\n") as out:
        for chunk in iter_openmetrics(scenario, times):
            size += out.write(chunk)
    return WriteStats(
        path=path,
        series=n_series,
        samples=n_series * int(times.size),
        bytes=size,
        seconds=time.perf_counter() - began,
        sample_times=times,
    )
