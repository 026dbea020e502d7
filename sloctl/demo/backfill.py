"""Backfill OpenMetrics text into TSDB blocks with ``promtool`` (and write + backfill a scenario).

``--max-block-duration=720h`` goes before ``openmetrics``: with the default 2 h blocks promtool
re-parses the whole file once per block (hours for a 30-day file).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sloctl.demo.openmetrics import WriteStats, write_openmetrics
from sloctl.demo.prometheus_server import find_binary
from sloctl.demo.scenario import Sampling, Scenario
from sloctl.errors import BackendError


@dataclass(frozen=True)
class BackfillStats:
    """Blocks promtool created, read back from their ``meta.json``."""

    blocks: int
    samples: int
    series: int  # summed over blocks (a series spanning 2 blocks counts twice)
    min_time: float  # unix seconds
    max_time: float  # unix seconds (exclusive bound as stored: last sample + 1 ms)
    seconds: float


@dataclass(frozen=True)
class HistoryStats:
    written: WriteStats
    backfilled: BackfillStats


def _block_metas(tsdb_dir: Path) -> dict[str, dict[str, object]]:
    metas: dict[str, dict[str, object]] = {}
    for meta in tsdb_dir.glob("*/meta.json"):
        metas[meta.parent.name] = json.loads(meta.read_text())
    return metas


def backfill(
    openmetrics_file: Path,
    tsdb_dir: Path,
    *,
    max_block_duration: str = "720h",
    timeout: float | None = None,
) -> BackfillStats:
    """Run ``promtool tsdb create-blocks-from openmetrics`` into ``tsdb_dir``.

    Raises BackendError with promtool's output when it fails.
    """
    promtool = find_binary("promtool")
    tsdb_dir.mkdir(parents=True, exist_ok=True)
    before = set(_block_metas(tsdb_dir))
    args = [
        promtool,
        "tsdb",
        "create-blocks-from",
        f"--max-block-duration={max_block_duration}",
        "openmetrics",
        str(openmetrics_file),
        str(tsdb_dir),
    ]
    began = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    took = time.perf_counter() - began
    if proc.returncode != 0:
        output = (proc.stderr.strip() or proc.stdout.strip())[-4000:]
        raise BackendError(
            "promtool",
            f"backfill of {openmetrics_file} failed (exit {proc.returncode}): {output}\n"
            "Check that the file is OpenMetrics with second timestamps and ends with '# EOF'.",
        )
    new = [m for ulid, m in _block_metas(tsdb_dir).items() if ulid not in before]
    stats = [m["stats"] for m in new]
    return BackfillStats(
        blocks=len(new),
        samples=sum(int(s["numSamples"]) for s in stats if isinstance(s, dict)),
        series=sum(int(s["numSeries"]) for s in stats if isinstance(s, dict)),
        min_time=min((_ms(m["minTime"]) for m in new), default=0.0),
        max_time=max((_ms(m["maxTime"]) for m in new), default=0.0),
        seconds=took,
    )


def _ms(value: object) -> float:
    return int(str(value)) / 1000.0


def load_history(
    scenario: Scenario,
    data_dir: Path,
    *,
    sampling: Sampling | None = None,
    tmp_dir: Path | None = None,
) -> HistoryStats:
    """Write ``scenario`` as OpenMetrics to a temp file, backfill it into ``data_dir``, delete it.

    Start a :class:`~sloctl.demo.prometheus_server.PrometheusServer` on ``data_dir`` afterwards
    (blocks copied into a running Prometheus are picked up only after about a minute).
    """
    with tempfile.TemporaryDirectory(prefix="sloctl-om-", dir=tmp_dir) as tmp:
        path = Path(tmp) / "history.om"
        written = write_openmetrics(scenario, path, sampling=sampling)
        backfilled = backfill(path, data_dir)
    return HistoryStats(written=written, backfilled=backfilled)
