"""Weekly email render time for 100 services, against a baseline in the same run.

Target (issue #12): the weekly email for 100 services rendered in <= 3 s: build every scope's
scorecard from the stored inputs, render the organisation's email (HTML, text, every chart as
PNG) and assemble the MIME message. The baseline is the same work for 5 services, so the ratio
shows how the time grows with the organisation; the inputs are synthetic
(``sloctl.report.sample``), decoded from their stored JSON as ``sloctl serve`` does.

    .venv/bin/python bench/report_render.py [--services 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sloctl.report import codec
from sloctl.report.build import build_all
from sloctl.report.inputs import ReportInputs
from sloctl.report.message import build_message
from sloctl.report.render import render
from sloctl.report.sample import sample_inputs

TARGET_SECONDS = 3.0
TZ = ZoneInfo("Europe/Berlin")


def one_email(stored: str) -> tuple[float, int]:
    """Seconds to decode the stored inputs, build every scope, render and assemble the
    organisation's email; and the message's size."""
    started = time.perf_counter()
    inputs = codec.decode(ReportInputs, json.loads(stored))
    cards = build_all(inputs, TZ)
    rendered = render(cards["organisation"], "http://127.0.0.1:8501", 0.25)
    message = build_message(rendered, sender="sloctl@example.com", recipients=["cto@example.com"],
                            msg_id="<bench@example.com>", date=datetime(2026, 12, 7, tzinfo=UTC),
                            period="2026-W49", scope="organisation")
    size = len(message.as_bytes())
    return time.perf_counter() - started, size


def measure(services: int, repeats: int) -> tuple[float, int]:
    stored = json.dumps(codec.encode(sample_inputs(services, TZ)))
    times, size = [], 0
    for _ in range(repeats):
        seconds, size = one_email(stored)
        times.append(seconds)
    return statistics.median(times), size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    one_email(json.dumps(codec.encode(sample_inputs(5, TZ))))  # warm-up: imports, fonts
    base, base_size = measure(5, args.repeats)
    big, big_size = measure(args.services, args.repeats)
    print(f"services  seconds (median of {args.repeats})  message bytes")
    print(f"{5:>8}  {base:>8.2f}  {base_size:>13,}")
    print(f"{args.services:>8}  {big:>8.2f}  {big_size:>13,}")
    print(f"ratio {args.services}/5 services: {big / base:.2f}; target <= {TARGET_SECONDS:g} s "
          f"at {args.services}: {'pass' if big <= TARGET_SECONDS else 'FAIL'}")
    return 0 if big <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
