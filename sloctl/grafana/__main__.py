"""Write the dashboards into grafana/dashboards, or check that they are up to date.

python -m sloctl.grafana [--check] [DIR]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sloctl.grafana.files import DASHBOARD_DIR, stale_files, write_dashboards


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sloctl.grafana", description=__doc__)
    parser.add_argument("directory", nargs="?", type=Path, default=DASHBOARD_DIR)
    parser.add_argument("--check", action="store_true", help="fail if a file is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_files(args.directory)
        for name in stale:
            print(f"{args.directory / name} is stale: run `python -m sloctl.grafana`")
        return 1 if stale else 0
    for path in write_dashboards(args.directory):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
