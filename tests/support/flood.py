"""A hostile local peer for ``sloctl serve``: idle, slow-header and slow-body connections.

``flood(...)`` keeps ``idle`` connections that never send a byte, ``slow_headers`` that trickle
a request head and ``slow_bodies`` that send a head then trickle the body, reopening each one the
server closes, until ``seconds`` have passed; ``probe(...)`` asks ``/healthz`` on a new connection
every ``every`` seconds meanwhile. Both on loopback only, and both stop what they start.
"""

from __future__ import annotations

import asyncio
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

SLOW_HEAD = b"POST /api/v1/alertmanager HTTP/1.1\r\nhost: sloctl\r\nx-slow: "
TRICKLE_SECONDS = 1.0
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class FloodStats:
    opened: int = 0
    refused: int = 0  # connect failed (backlog full, fd limit)
    closed_by_server: int = 0


@dataclass
class ProbeStats:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def worst(self) -> float:
        return max(self.latencies, default=float("inf"))


def raise_fd_limit(wanted: int) -> int:
    """The soft open-file limit raised towards ``wanted`` (within the hard limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


async def _hold(host: str, port: int, kind: str, token: str, until: float,
                stats: FloodStats) -> None:
    while time.monotonic() < until:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            stats.refused += 1
            await asyncio.sleep(0.2)
            continue
        stats.opened += 1
        try:
            if kind == "head":
                writer.write(SLOW_HEAD)
            elif kind == "body":
                writer.write(b"POST /api/v1/alertmanager HTTP/1.1\r\nhost: sloctl\r\n"
                             b"authorization: Bearer " + token.encode() + b"\r\n"
                             b"content-type: application/json\r\ncontent-length: 100000\r\n\r\n")
            while time.monotonic() < until:
                if kind != "idle":
                    writer.write(b"a" if kind == "head" else b" ")
                    await writer.drain()
                try:
                    data = await asyncio.wait_for(reader.read(4096), TRICKLE_SECONDS)
                except TimeoutError:
                    continue
                if not data:  # closed by the server
                    stats.closed_by_server += 1
                    break
        except OSError:
            stats.closed_by_server += 1
        finally:
            writer.close()


async def flood(host: str, port: int, *, idle: int, slow_headers: int = 0,
                slow_bodies: int = 0, seconds: float, token: str = "x") -> FloodStats:
    """Hold the connections until ``seconds`` have passed (see the module docstring)."""
    stats = FloodStats()
    until = time.monotonic() + seconds
    tasks = [asyncio.create_task(_hold(host, port, kind, token, until, stats))
             for kind, n in (("idle", idle), ("head", slow_headers), ("body", slow_bodies))
             for _ in range(n)]
    await asyncio.gather(*tasks, return_exceptions=True)
    return stats


async def probe(host: str, port: int, *, seconds: float, every: float = 0.25,
                timeout: float = 1.0) -> ProbeStats:
    """``GET /healthz`` on a new connection every ``every`` s; latency of each, or why not."""
    stats = ProbeStats()
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
            writer.write(b"GET /healthz HTTP/1.1\r\nhost: sloctl\r\nconnection: close\r\n\r\n")
            answer = await asyncio.wait_for(reader.read(4096), timeout - (time.monotonic()
                                                                            - started))
            writer.close()
            if not answer.startswith(b"HTTP/1.1 200"):
                stats.failures.append(answer[:40].decode(errors="replace"))
            else:
                stats.latencies.append(time.monotonic() - started)
        except (OSError, TimeoutError) as exc:
            stats.failures.append(f"{type(exc).__name__} after {time.monotonic() - started:.2f} s")
        await asyncio.sleep(max(0.0, every - (time.monotonic() - started)))
    return stats


def main(argv: list[str]) -> None:
    """``python -m tests.support.flood HOST PORT IDLE HEADS BODIES SECONDS TOKEN``: one flooding
    process (its own CPU and open files); prints its ``FloodStats`` as JSON."""
    import json

    host, port, idle, heads, bodies, seconds, token = argv[:7]
    if len(argv) > 7:
        os.nice(int(argv[7]))  # a peer on another machine does not take the server's CPU
    raise_fd_limit(int(idle) + int(heads) + int(bodies) + 64)
    stats = asyncio.run(flood(host, int(port), idle=int(idle), slow_headers=int(heads),
                              slow_bodies=int(bodies), seconds=float(seconds), token=token))
    print(json.dumps(stats.__dict__), flush=True)


def spawn(host: str, port: int, *, idle: int, slow_headers: int = 0, slow_bodies: int = 0,
          seconds: float, token: str = "x", nice: int = 0) -> subprocess.Popen[str]:
    """One flooding child process (read its stdout for the stats; it ends after ``seconds``);
    ``nice`` lowers its CPU priority."""
    args = [host, str(port), str(idle), str(slow_headers), str(slow_bodies), str(seconds), token,
            str(nice)]
    return subprocess.Popen([sys.executable, "-m", "tests.support.flood", *args],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)


if __name__ == "__main__":
    main(sys.argv[1:])
