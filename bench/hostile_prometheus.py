"""`sloctl eval` against a hostile Prometheus that answers every query with a huge valid vector.

A local fake Prometheus (loopback) streams ``--series`` series per answer (chunked, as fast as
the socket takes them); the baseline is the same fake answering one series per query. For each,
`sloctl eval` runs as a child process (the demo's specs, ``prometheus.timeout_seconds`` 10) and
this script records its wall time, its peak RSS (polled every 50 ms), its exit code and whether a
problem names the cap. Acceptance: the hostile cycle ends within the timeout + 2 s, under 300 MB,
exits 3, and a problem names prometheus.max_series or prometheus.max_bytes.

    .venv/bin/python bench/hostile_prometheus.py                 # 300,000 series
    .venv/bin/python bench/hostile_prometheus.py --series 50000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "sloctl" / "demo" / "specs"
TIMEOUT = 10.0


def handler(series: int) -> type[BaseHTTPRequestHandler]:
    class Hostile(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                self._chunk(b'{"status":"success","data":{"resultType":"vector","result":[')
                for start in range(0, series, 1000):
                    items = ",".join(
                        json.dumps({"metric": {"service_name": f"svc{i}", "instance": f"i{i}",
                                               "le": "0.3"}, "value": [1.7e9, "1"]})
                        for i in range(start, min(start + 1000, series)))
                    self._chunk((b"," if start else b"") + items.encode())
                self._chunk(b"]}}")
                self._chunk(b"")
            except (BrokenPipeError, ConnectionResetError):
                pass  # sloctl stopped reading at its cap: exactly what is measured

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

        def log_message(self, *args: object) -> None:
            pass

    return Hostile


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # sloctl hanging up at its cap is the point, not an error


def run_eval(series: int, folder: Path) -> dict[str, object]:
    server = QuietServer(("127.0.0.1", 0), handler(series))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOCTL_", "OTEL_"))}
    env.update({
        "SLOCTL_PROMETHEUS_URL": f"http://127.0.0.1:{server.server_address[1]}",
        "SLOCTL_PROMETHEUS_TIMEOUT": str(TIMEOUT),
        "SLOCTL_STORE_URL": f"sqlite:///{folder / f'{series}.db'}",
        "SLOCTL_SPECS": str(SPECS),
    })
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "sloctl.cli.main", "eval", "-q"], env=env,
                            cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    watched = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.05)
    out, err = proc.communicate()
    seconds = time.monotonic() - started
    server.shutdown()
    server.server_close()
    text = out + err
    return {"seconds": seconds, "peak_mib": peak / 2**20, "code": proc.returncode,
            "names_cap": "prometheus.max_series" in text or "prometheus.max_bytes" in text,
            "example": next((line for line in err.splitlines() if "max_" in line), "")[:200]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=300_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sloctl-bench-hostile-") as tmp:
        base = run_eval(1, Path(tmp))
        hostile = run_eval(args.series, Path(tmp))
    print(f"sloctl eval, demo specs, prometheus.timeout_seconds {TIMEOUT:g}\n")
    print(f"{'answer':<18} {'seconds':>8} {'peak RSS MiB':>13} {'exit':>5} {'cap named':>10}")
    for name, r in (("1 series", base), (f"{args.series} series", hostile)):
        print(f"{name:<18} {r['seconds']:>8.2f} {r['peak_mib']:>13.0f} {r['code']:>5} "
              f"{'yes' if r['names_cap'] else 'no':>10}")
    print(f"hostile / baseline: {hostile['seconds'] / base['seconds']:.2f}x time, "  # type: ignore[operator]
          f"{hostile['peak_mib'] / base['peak_mib']:.2f}x peak RSS")  # type: ignore[operator]
    print(f"problem: {hostile['example']}")
    checks = {
        f"within {TIMEOUT:g} + 2 s": float(hostile["seconds"]) <= TIMEOUT + 2,  # type: ignore[arg-type]
        "under 300 MB": float(hostile["peak_mib"]) < 300,  # type: ignore[arg-type]
        "exit 3": hostile["code"] == 3,
        "cap named": bool(hostile["names_cap"]),
    }
    print("; ".join(f"{k}: {'PASS' if v else 'FAIL'}" for k, v in checks.items()))
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
