"""``sloctl serve`` under a flood of idle and slow connections, on loopback.

A real ``sloctl serve`` (SQLite store, the demo specs, a Prometheus that is down) with its
defaults (``receiver.max_connections`` 2048, idle 5 s, headers 10 s, bodies 20 s). Flooding
child processes (each its own open-file budget, raised within the hard limit) keep ``--idle``
connections that never send a byte plus ``--slow`` connections trickling a head or a body,
reopening whatever the server closes, for ``--seconds``. Meanwhile this process asks /healthz on a
new connection every 0.25 s. Printed: /healthz latency without and during the flood (and the
ratio), serve's log growth, its RSS before, at the peak and 10 s after, and the acceptance
checks (healthz within 1 s throughout, log < 1 MB, RSS back within 20 %).

    .venv/bin/python bench/flood.py                       # 20,000 idle + 1,000 slow, 60 s
    .venv/bin/python bench/flood.py --idle 5000 --slow 200 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.flood import ProbeStats, probe, spawn  # noqa: E402
from tests.support.processes import free_port, http_get, wait_until  # noqa: E402
from tests.support.sloctl_process import sloctl_env, sloctl_serve  # noqa: E402

TOKEN = "bench-flood-token"
PER_PROCESS = 6000  # connections per flooding process (its open files stay under the limit)


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))] if ordered else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, default=20_000)
    parser.add_argument("--slow", type=int, default=1_000, help="half heads, half bodies")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--nice", type=int, default=0,
                        help="CPU niceness of the flooding processes (an attacker on another "
                        "machine does not share the server's cores; on loopback they do)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sloctl-bench-flood-") as tmp:
        folder = Path(tmp)
        port = free_port()
        env = sloctl_env(folder, receiver_port=str(port), receiver_token=TOKEN,
                         prometheus_url=f"http://127.0.0.1:{free_port()}")
        with sloctl_serve(env, folder, interval=60) as serving:
            wait_until(lambda: http_get(f"http://127.0.0.1:{port}/healthz"), 60, "serve",
                       serving.proc)
            proc = psutil.Process(serving.proc.pid)
            time.sleep(2)
            baseline = asyncio.run(probe("127.0.0.1", port, seconds=5))
            rss_before, log_before = proc.memory_info().rss, serving.log.stat().st_size
            peak = [rss_before]
            stop = threading.Event()

            def watch() -> None:
                while not stop.wait(0.5):
                    peak.append(proc.memory_info().rss)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            shares = [min(PER_PROCESS, args.idle - i) for i in range(0, args.idle, PER_PROCESS)]
            attackers = [spawn("127.0.0.1", port, idle=n, seconds=args.seconds, token=TOKEN,
                               nice=args.nice) for n in shares]
            attackers.append(spawn("127.0.0.1", port, idle=0, slow_headers=args.slow // 2,
                                   slow_bodies=args.slow - args.slow // 2,
                                   seconds=args.seconds, token=TOKEN, nice=args.nice))
            during: ProbeStats = asyncio.run(probe("127.0.0.1", port, seconds=args.seconds))
            floods = [json.loads(a.communicate(timeout=120)[0] or "{}") for a in attackers]
            time.sleep(10)
            stop.set()
            rss_after = proc.memory_info().rss
            log_growth = serving.log.stat().st_size - log_before
            tail = serving.log.read_text(errors="replace")[log_before:][-1500:]
            serving.terminate()
    opened = sum(f.get("opened", 0) for f in floods)
    refused = sum(f.get("refused", 0) for f in floods)
    mib = 2**20
    print(f"flood: {args.idle} idle + {args.slow} slow connections for {args.seconds:.0f} s "
          f"({len(attackers)} processes, nice {args.nice}): {opened} connections opened, "
          f"{refused} connects failed\n")
    base_p50 = statistics.median(baseline.latencies) * 1000
    print(f"{'/healthz':<16} {'p50 ms':>8} {'p99 ms':>8} {'worst ms':>9} {'failed':>7}")
    for name, stats in (("no flood", baseline), ("during flood", during)):
        print(f"{name:<16} {statistics.median(stats.latencies or [0]) * 1000:>8.1f} "
              f"{quantile(stats.latencies, 0.99) * 1000:>8.1f} {stats.worst * 1000:>9.1f} "
              f"{len(stats.failures):>7}")
    during_p50 = statistics.median(during.latencies or [float("nan")]) * 1000
    print(f"during / no flood p50: {during_p50 / base_p50:.1f}x")
    print(f"serve's log grew {log_growth} bytes; RSS {rss_before / mib:.0f} MiB before, "
          f"{max(peak) / mib:.0f} MiB at the peak, {rss_after / mib:.0f} MiB 10 s after "
          f"({rss_after / rss_before:.2f}x)")
    print("last log lines:\n" + "\n".join(tail.splitlines()[-4:]))
    if during.failures:
        print("healthz failures: " + "; ".join(during.failures[:5]))
    checks = {
        "healthz within 1 s throughout": not during.failures and during.worst < 1.0,
        "log grew < 1 MB": log_growth < 1_000_000,
        "RSS back within 20 %": rss_after <= rss_before * 1.2,
    }
    print("; ".join(f"{k}: {'PASS' if v else 'FAIL'}" for k, v in checks.items()))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
