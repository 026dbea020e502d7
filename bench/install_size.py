"""Install size of each set of extras: the wheel in a fresh virtualenv at the lock's versions.

Builds the wheel from a clean copy of the sources, then one virtualenv per set (base, serve,
dashboard, all, and a bare one for the baseline) with uv from its cache, as
tests/integration/test_wheel.py does, and prints per set the ``du`` of the virtualenv, its
distributions, and the ratio to ``all`` (what every install held before the extras). Target: the
base install (the CLI) at most 1/5 of ``all``.

    .venv/bin/python bench/install_size.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support import wheel  # noqa: E402

SETS: tuple[tuple[str, ...], ...] = ((), ("serve",), ("dashboard",), ("all",))
TARGET_RATIO = 0.2


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="sloctl-install-size-") as tmp:
        work = Path(tmp)
        built = wheel.build_wheel(work)
        wheel_bytes = built.stat().st_size
        bare = work / "bare"
        subprocess.run([wheel.uv(), "venv", "--quiet", "--python", sys.executable, str(bare)],
                       check=True)
        floor = wheel.size_bytes(bare)
        rows = []
        for extras in SETS:
            bin_dir = wheel.install(built, extras, work / ("-".join(extras) or "base"))
            rows.append((extras, wheel.size_bytes(bin_dir.parent), len(wheel.installed(bin_dir))))
    everything = rows[-1][1]
    print(f"wheel {built.name}: {wheel_bytes / 2**20:.1f} MiB; an empty virtualenv "
          f"{floor / 2**20:.1f} MiB")
    print("| install | virtualenv MiB | distributions | / all |\n|---|---:|---:|---:|")
    for extras, size, count in rows:
        name = f"sloctl[{','.join(extras)}]" if extras else "sloctl"
        print(f"| {name} | {size / 2**20:.0f} | {count} | {size / everything:.2f} |")
    ratio = rows[0][1] / everything
    print(f"base / all = {ratio:.2f} (target <= {TARGET_RATIO}): "
          f"{'PASS' if ratio <= TARGET_RATIO else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
