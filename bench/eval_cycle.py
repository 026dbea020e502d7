"""One evaluation cycle, sloctl vs slo-generator 2.6.0, side by side on a real Prometheus;
sloctl alone at scale, on Prometheus or VictoriaMetrics.

For each size N (services) the script backfills the synthetic scenario into a fresh TSDB, starts
Prometheus with a query log and runs both tools as subprocesses on the same 2N SLOs (availability
99.5 % and latency 95 % <= 300 ms per service) and the same 8 windows (5m 30m 1h 2h 6h 1d 3d 28d).
Per tool it measures queries per cycle (Prometheus query log), wall time, peak RSS (``wait4``
rusage of the child) and Prometheus CPU seconds, and prints the ratios sloctl / slo-generator.

slo-generator's Prometheus backend ignores ``--timestamp`` and queries at *now*, so the history
ends ``lead`` minutes after it is generated: every run happens inside the data and every window,
including 5m, is full. sloctl gets ``--at T`` with T the instant the paired slo-generator run
starts, so both read the same samples. Sizes above ``--peer-max`` run sloctl alone (slo-generator
sends 16 sequential queries per SLO); ``--backend victoriametrics`` imports the history into a
VictoriaMetrics instead (no promtool, no peer) and counts queries from its own
``vm_http_requests_total``. The scale targets compare the largest size with the size ten times
smaller. Run ``--help`` for options; bench/README.md explains more.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from string import Template

from sloctl.demo.backfill import load_history
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import Sampling, synthetic_scenario
from sloctl.demo.victoriametrics_server import VictoriaMetricsServer

REPO = Path(__file__).resolve().parents[1]
PEER_VENV = REPO / ".venv-peer"
PEER_VERSION = "2.6.0"
PEER_PACKAGES = (f"slo-generator[prometheus]=={PEER_VERSION}", "setuptools<81")
TEMPLATES = Path(__file__).resolve().parent / "peer"
DEFAULT_OUT = REPO / "bench" / "out" / "eval_cycle.md"
SLOCTL = str(Path(sys.executable).parent / "sloctl")

WINDOWS: tuple[tuple[str, int], ...] = (
    ("5m", 300),
    ("30m", 1800),
    ("1h", 3600),
    ("2h", 7200),
    ("6h", 21600),
    ("1d", 86400),
    ("3d", 259200),
    ("28d", 2419200),
)
TARGET_SIZE = 100
TARGET_QUERY_RATIO = 1 / 20
TARGET_WALL_RATIO = 1 / 5
SAMPLE_WINDOW = 3600  # the step whose slo-generator query instant pins the sanity check
SLI_TOLERANCE = 1e-5
SG_REPORT = re.compile(r"(?P<slo>\S+)\s+\|\s+(?P<step>\S+)\s+\|\s+SLI:\s+(?P<sli>[-+.\deE]+)\s+%")
SG_NO_DATA = "Couldn't find any values"
# One cycle as `sloctl serve` runs it every interval: plan, queries, assemble, store; nothing
# printed (`sloctl eval -o json` also builds and prints the whole document: 155 MB at 20,000 SLOs).
CYCLE_CHILD = """
import os, sys
from datetime import datetime
from sloctl.evaluation.cycle import Evaluator
from sloctl.settings import load_settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs
from sloctl.store import Store
s = load_settings(None, dict(os.environ))
engine = Evaluator(s, load_specs(list(s.specs)), PrometheusSource(s.prometheus),
                   Store(s.store_url))
ev = engine.run_cycle(datetime.fromisoformat(sys.argv[1]))
print(len(ev.slos), ev.query_count, len(ev.problems))
"""
SCALE_WALL_RATIO = 10.0  # the largest size against a tenth of it
SCALE_RSS_MB = 1024.0
# Caps for every size (the 10,000-service answers exceed the defaults: the full 5m histogram is
# 120,000 series, coverage 80,000 rows), so every size runs with the same settings.
BIG_CAPS = {
    "SLOCTL_PROMETHEUS_MAX_SERIES": "10000000",
    "SLOCTL_PROMETHEUS_MAX_BYTES": str(4 * 1024**3),
    "SLOCTL_PROMETHEUS_TIMEOUT": "600",
}
VM_FLAGS = (  # one cycle sends 8 queries at once, each may read millions of samples
    "-search.maxConcurrentRequests=16",
    "-search.maxQueueDuration=600s",
    "-search.maxQueryDuration=600s",
    "-search.maxUniqueTimeseries=100000000",
)


# --- measuring a child process -------------------------------------------------------------
@dataclass(frozen=True)
class Measured:
    """Wall time, peak RSS and exit code of one child process."""

    wall: float
    rss_mb: float
    exit_code: int


def run_measured(
    cmd: Sequence[str], *, env: dict[str, str], cwd: Path, stdout: Path, stderr: Path | None = None
) -> Measured:
    """Run ``cmd`` to completion; peak RSS comes from ``os.wait4`` (ru_maxrss, KiB on Linux)."""
    with stdout.open("wb") as out, (stderr or stdout).open("ab") as err:
        began = time.perf_counter()
        proc = subprocess.Popen(list(cmd), stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - began
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Measured(wall, usage.ru_maxrss / 1024.0, proc.returncode)


def clean_env(**extra: str) -> dict[str, str]:
    """The parent environment without SLOCTL_* / slo-generator knobs, plus ``extra``."""
    drop = ("SLOCTL_", "DEBUG", "COLORED_OUTPUT", "PROMETHEUS_URL", "PROMETHEUS_HEAD")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env.update(extra)
    return env


def prometheus_cpu_seconds(url: str) -> float:
    """``process_cpu_seconds_total`` of the Prometheus server itself (from its /metrics)."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as resp:
        for line in resp.read().decode().splitlines():
            if line.startswith("process_cpu_seconds_total "):
                return float(line.split()[1])
    raise RuntimeError(f"{url}/metrics has no process_cpu_seconds_total")


def instant_query(url: str, query: str) -> dict[str, object]:
    data = urllib.parse.urlencode({"query": query}).encode()
    with urllib.request.urlopen(f"{url}/api/v1/query", data=data, timeout=300) as resp:
        result: dict[str, object] = json.loads(resp.read())
        return result


class Backend:
    """The server under test: queries answered and its own CPU seconds, whichever it is."""

    def __init__(self, server: PrometheusServer | VictoriaMetricsServer) -> None:
        self.server = server

    @property
    def kind(self) -> str:
        return "victoriametrics" if isinstance(self.server, VictoriaMetricsServer) else "prometheus"

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def query_log(self) -> Path | None:
        return self.server.query_log if isinstance(self.server, PrometheusServer) else None

    def query_count(self) -> int:
        """Prometheus: HTTP API queries in its query log; VictoriaMetrics: /api/v1/query hits."""
        if isinstance(self.server, VictoriaMetricsServer):
            return self.server.request_count("/api/v1/query")
        return self.server.query_log_count()

    def cpu_seconds(self) -> float:
        if isinstance(self.server, VictoriaMetricsServer):
            return self.server.cpu_seconds()
        return prometheus_cpu_seconds(self.server.url)

    def log_text(self) -> str:
        path = self.server.log_path
        return path.read_text(errors="replace") if path.exists() else ""


# --- the peer (slo-generator) --------------------------------------------------------------
def ensure_peer(venv: Path = PEER_VENV) -> Path:
    """Create ``venv`` with slo-generator 2.6.0 if it is missing (quiet, idempotent)."""
    exe = venv / "bin" / "slo-generator"
    python = venv / "bin" / "python"
    if exe.exists():
        version = "import importlib.metadata as m; print(m.version('slo-generator'))"
        probe = subprocess.run(
            [str(python), "-c", version],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.stdout.strip() == PEER_VERSION:
            return exe
    print(f"installing {' '.join(PEER_PACKAGES)} into {venv} ...", flush=True)
    steps = (
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", *PEER_PACKAGES],
    )
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(
                f"peer install failed: {' '.join(step)}\n{done.stderr[-2000:]}\n"
                f"Fix the cause (network to PyPI?) or delete {venv} and run again."
            )
    return exe


def render(template: str, **values: str) -> str:
    return Template((TEMPLATES / template).read_text()).substitute(values)


def write_peer_config(folder: Path, services: Sequence[str], prometheus_url: str) -> Path:
    """slo-generator's shared.yaml plus 2 SLO files per service under ``folder/slos``."""
    slos = folder / "slos"
    slos.mkdir(parents=True)
    for service in services:
        for kind in ("availability", "latency"):
            text = render(f"{kind}.yaml.tmpl", service=service)
            (slos / f"{service}-{kind}.yaml").write_text(text)
    shared = folder / "shared.yaml"
    shared.write_text(render("shared.yaml.tmpl", prometheus_url=prometheus_url))
    return shared


def write_sloctl_specs(folder: Path, services: Sequence[str]) -> Path:
    path = folder / "sloctl-specs.yaml"
    path.write_text(render("sloctl.yaml.tmpl", services=json.dumps(list(services))))
    return path


# --- reading the tools' answers ------------------------------------------------------------
@dataclass
class Answers:
    """SLIs by (service, kind, window seconds); None = the tool had no value."""

    sli: dict[tuple[str, str, int], float | None] = field(default_factory=dict)
    no_data: int = 0  # windows without a value (sloctl) / "Couldn't find any values" (peer)
    errors: int = 0  # invalid reports (peer) / problems (sloctl)
    first_error: str = ""
    query_count: int | None = None  # what the tool says it sent (sloctl only)
    cycle_seconds: float | None = None  # sloctl: started_at .. finished_at of the cycle itself


def parse_peer_output(text: str) -> Answers:
    """slo-generator logs one line per SLO and step: ``name | step | SLI: 98.7 % | ...``."""
    steps = dict(WINDOWS)
    ans = Answers(no_data=text.count(SG_NO_DATA))
    for line in text.splitlines():
        m = SG_REPORT.search(line)
        if m:
            service, _, kind = m["slo"].rpartition("-")
            ans.sli[(service, kind, steps[m["step"]])] = float(m["sli"]) / 100.0
        elif line.startswith("ERROR"):
            ans.errors += 1
            ans.first_error = ans.first_error or line
    return ans


def parse_sloctl_output(path: Path) -> Answers:
    """``sloctl eval --output json``: an Evaluation with its SLO statuses and windows."""
    doc = json.loads(path.read_text())
    problems = doc.get("problems", [])
    ans = Answers(errors=len(problems), query_count=doc.get("query_count"))
    if doc.get("started_at") and doc.get("finished_at"):
        began, ended = (datetime.fromisoformat(doc[k]) for k in ("started_at", "finished_at"))
        ans.cycle_seconds = (ended - began).total_seconds()
    ans.first_error = problems[0] if problems else ""
    for slo in doc["slos"]:
        kind = "availability" if "avail" in slo["name"] else "latency"
        for w in slo["windows"]:
            ans.sli[(slo["service"], kind, int(w["window"]))] = w["sli"]
            ans.no_data += w["sli"] is None
    return ans


def peer_query_instant(query_log: Path, service: str, window: int) -> datetime | None:
    """Evaluation time of slo-generator's first query for ``service`` over ``window``."""
    needle, span = f'service_name="{service}"', f"[{window}s]"
    for line in query_log.read_text().splitlines():
        entry = json.loads(line)
        query = entry.get("params", {}).get("query", "")
        if "httpRequest" in entry and needle in query and span in query:
            return datetime.fromisoformat(entry["params"]["start"].replace("Z", "+00:00"))
    return None


# --- one size ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ToolRun:
    tool: str
    at: datetime
    measured: Measured
    queries: int
    prom_cpu: float
    answers: Answers


@dataclass
class SizeResult:
    services: int
    runs: list[ToolRun]
    startup: dict[str, float]
    data_start: datetime
    data_end: datetime
    samples: int
    prep_detail: str
    prep_seconds: float
    total_seconds: float = 0.0
    load: list[float] = field(default_factory=list)  # 1-min load average before each run
    serve_cycles: list[Measured] = field(default_factory=list)  # CYCLE_CHILD runs
    sanity: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def of(self, tool: str) -> list[ToolRun]:
        return [r for r in self.runs if r.tool == tool]


@dataclass(frozen=True)
class Workspace:
    """Paths and commands of one size's run."""

    root: Path
    prom: Backend
    peer_cmd: list[str]
    sloctl_env: dict[str, str]
    peer_env: dict[str, str]


def run_tool(ws: Workspace, tool: str, at: datetime, tag: str) -> ToolRun:
    """One measured cycle of ``tool`` (``sloctl`` evaluates ``--at at``)."""
    before_q, before_cpu = ws.prom.query_count(), ws.prom.cpu_seconds()
    out = ws.root / f"{tool}-{tag}.out"
    if tool == "sloctl":
        cmd = [SLOCTL, "eval", "--at", at.isoformat(), "-q", "--output", "json"]
        err = ws.root / f"{tool}-{tag}.err"
        measured = run_measured(cmd, env=ws.sloctl_env, cwd=ws.root, stdout=out, stderr=err)
        if measured.exit_code != 0:
            raise SystemExit(f"sloctl eval failed ({measured.exit_code}): {tail(err)}")
        answers = parse_sloctl_output(out)
    else:
        measured = run_measured(ws.peer_cmd, env=ws.peer_env, cwd=ws.root, stdout=out)
        if measured.exit_code != 0:
            raise SystemExit(f"slo-generator failed ({measured.exit_code}): {tail(out)}")
        answers = parse_peer_output(out.read_text())
    queries = ws.prom.query_count() - before_q
    cpu = ws.prom.cpu_seconds() - before_cpu
    return ToolRun(tool, at, measured, queries, cpu, answers)


def serve_cycle(ws: Workspace, at: datetime, tag: str) -> Measured:
    """One cycle as serve runs it (CYCLE_CHILD), in a child process, on its own store."""
    env = {**ws.sloctl_env, "SLOCTL_STORE_URL": f"sqlite:///{ws.root / f'cycle-{tag}.db'}"}
    out = ws.root / f"cycle-{tag}.out"
    measured = run_measured([sys.executable, "-c", CYCLE_CHILD, at.isoformat()], env=env,
                            cwd=ws.root, stdout=out)
    if measured.exit_code != 0:
        raise SystemExit(f"the serve-like cycle failed ({measured.exit_code}): {tail(out)}")
    return measured


def tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:]


def startup_overhead(cmd: Sequence[str], env: dict[str, str], cwd: Path, n: int = 3) -> float:
    """Median wall time of a command that only starts the program (--version / --help)."""
    walls = [run_measured(cmd, env=env, cwd=cwd, stdout=cwd / "startup.out").wall for _ in range(n)]
    return statistics.median(walls)


def runs_peer(n: int, args: argparse.Namespace) -> bool:
    """slo-generator runs beside sloctl up to ``--peer-max`` services, on Prometheus only."""
    return bool(args.backend == "prometheus" and n <= args.peer_max)


def prepare_history(
    n: int, tsdb: Path, tmp: Path, args: argparse.Namespace,
    vm: VictoriaMetricsServer | None = None,
) -> SizeResult:
    """``history_hours`` before now plus ``lead`` minutes after it: backfilled with promtool
    into ``tsdb``, or imported into the running ``vm``."""
    began = time.perf_counter()
    t0 = datetime.now(UTC).replace(second=0, microsecond=0)
    minutes = args.lead_minutes or auto_lead_minutes(n, args.repeats, runs_peer(n, args))
    lead = timedelta(minutes=minutes)
    end = t0 + lead
    history = timedelta(hours=args.history_hours) + lead
    scenario = synthetic_scenario(n, end, history=history)
    sampling = Sampling(
        history_step=args.history_step,
        recent_step=args.step,
        recent_hours=args.recent_hours + lead.total_seconds() / 3600.0,
    )
    if vm is not None:
        times = sampling.times(scenario)
        imported = vm.import_scenario(scenario, times)
        count = "count(http_server_request_duration_seconds_count)"
        vm.wait_visible(count, expect=2 * n, at=times[-1])
        took = time.perf_counter() - began
        detail = (f"{imported.samples:,} samples ({imported.bytes / 1e6:.0f} MB Prometheus text, "
                  f"generated and imported in {imported.seconds:.1f} s)")
        return SizeResult(n, [], {}, end - history, end, imported.samples, detail, took)
    stats = load_history(scenario, tsdb, sampling=sampling, tmp_dir=tmp)
    took = time.perf_counter() - began
    written, backfilled = stats.written, stats.backfilled
    detail = (f"{written.samples:,} samples ({written.bytes / 1e6:.0f} MB OpenMetrics, written "
              f"in {written.seconds:.1f} s; promtool {backfilled.seconds:.1f} s)")
    return SizeResult(n, [], {}, end - history, end, written.samples, detail, took)


def auto_lead_minutes(n: int, repeats: int, peer: bool = True) -> int:
    """Generous time for preparation plus all runs (slo-generator: ~0.01 s per SLO-window;
    sloctl alone: a few seconds a run, preparation about 2 minutes per 1,000 services)."""
    if not peer:
        return 10 + math.ceil(n / 1000) * 3
    return 10 + math.ceil(repeats * n * 2 * len(WINDOWS) * 0.03 / 60)


def bench_size(n: int, args: argparse.Namespace, peer_exe: Path) -> SizeResult:
    began = time.perf_counter()
    services = [f"svc-{i:04d}" for i in range(1, n + 1)]
    with tempfile.TemporaryDirectory(prefix=f"sloctl-bench-{n}-", dir=args.workdir) as tmp_name:
        root = Path(tmp_name)
        peer = runs_peer(n, args)
        tools = ("slo-generator", "sloctl") if peer else ("sloctl",)
        print(f"\n== {n} services ({2 * n} SLOs, {' and '.join(tools)}, {args.backend}): "
              "generating and loading ...", flush=True)
        server: PrometheusServer | VictoriaMetricsServer
        if args.backend == "victoriametrics":
            server = VictoriaMetricsServer(root / "vm", extra_args=VM_FLAGS).start()
            try:
                res = prepare_history(n, root / "tsdb", root, args, server)
            except BaseException:
                server.stop()
                raise
        else:
            res = prepare_history(n, root / "tsdb", root, args)
            server = PrometheusServer(root / "tsdb", query_log=root / "query.log")
        print(f"   {res.prep_detail}", flush=True)
        with server:
            backend = Backend(server)
            ws = make_workspace(root, backend, services, peer_exe)
            res.startup = {"sloctl": startup_overhead([SLOCTL, "--version"], ws.sloctl_env, root)}
            if peer:
                res.startup["slo-generator"] = startup_overhead(
                    [str(peer_exe), "--help"], ws.peer_env, root)
            warm_up(backend.url)
            for r in range(args.repeats):
                at = datetime.now(UTC)
                order = tools if r % 2 == 0 else tools[::-1]
                for tool in order:
                    res.load.append(os.getloadavg()[0])
                    run = run_tool(ws, tool, at, f"r{r}")
                    res.runs.append(run)
                    print(
                        f"   run {r + 1}/{args.repeats} {tool:<13} {run.measured.wall:7.2f} s "
                        f"{run.queries:6d} queries {run.measured.rss_mb:6.0f} MB",
                        flush=True,
                    )
                if not peer:
                    res.load.append(os.getloadavg()[0])
                    cycle = serve_cycle(ws, at, f"r{r}")
                    res.serve_cycles.append(cycle)
                    print(f"   run {r + 1}/{args.repeats} {'serve cycle':<13} {cycle.wall:7.2f} s "
                          f"{'':14} {cycle.rss_mb:6.0f} MB", flush=True)
            if peer:
                res.sanity = sanity_check(ws, res)
            res.notes = data_notes(res, backend)
    res.total_seconds = time.perf_counter() - began
    return res


def make_workspace(
    root: Path, prom: Backend, services: Sequence[str], peer_exe: Path
) -> Workspace:
    shared = write_peer_config(root / "peer", services, prom.url)
    specs = write_sloctl_specs(root, services)
    sloctl_env = clean_env(
        SLOCTL_PROMETHEUS_URL=prom.url,
        SLOCTL_STORE_URL=f"sqlite:///{root / 'sloctl.db'}",
        SLOCTL_SPECS=str(specs),
        **BIG_CAPS,
    )
    peer_cmd = [str(peer_exe), "compute", "-f", str(root / "peer" / "slos"), "-c", str(shared)]
    peer_env = clean_env(COLORED_OUTPUT="0", PYTHONWARNINGS="ignore")
    return Workspace(root, prom, peer_cmd, sloctl_env, peer_env)


def warm_up(url: str) -> None:
    """Read every chunk once so neither tool pays the cold page cache alone."""
    instant_query(url, "count(max_over_time(http_server_request_duration_seconds_bucket[30d]))")


def sanity_check(ws: Workspace, res: SizeResult) -> list[str]:
    """Same SLIs? sloctl re-evaluated at the instant slo-generator queried the sample SLOs."""
    peer = res.of("slo-generator")[0].answers
    store = f"sqlite:///{ws.root / 'sanity.db'}"  # earlier instants than the measured store's
    ws = replace(ws, sloctl_env={**ws.sloctl_env, "SLOCTL_STORE_URL": store})
    lines = [
        "| SLO | window | slo-generator SLI | sloctl SLI | abs diff |",
        "|---|---|---|---|---|",
    ]
    worst = 0.0
    samples = [("svc-0001", "availability")]
    samples.append(("svc-0011", "latency") if res.services >= 11 else ("svc-0001", "latency"))
    for service, kind in samples:
        at = peer_query_instant(ws.prom.query_log or Path(), service, SAMPLE_WINDOW)
        if at is None:
            lines.append(f"| {service}/{kind} | - | no query found in the query log | | |")
            continue
        mine = run_tool(ws, "sloctl", at, f"sanity-{service}-{kind}").answers
        for name, seconds in WINDOWS:
            a, b = peer.sli.get((service, kind, seconds)), mine.sli.get((service, kind, seconds))
            diff = "-" if a is None or b is None else f"{abs(a - b):.2e}"
            worst = max(worst, math.inf if a is None or b is None else abs(a - b))
            lines.append(f"| {service}/{kind} | {name} | {fmt_sli(a)} | {fmt_sli(b)} | {diff} |")
    verdict = "AGREE" if worst <= SLI_TOLERANCE else "DIFFER"
    lines += [
        "",
        f"{verdict}: largest SLI difference {worst:.2e} (tolerance {SLI_TOLERANCE:g}; "
        "slo-generator rounds its SLI to 6 decimals and queries each step at its own instant)",
    ]
    return lines


def fmt_sli(x: float | None) -> str:
    return "none" if x is None else f"{x * 100:.6f} %"


def data_notes(res: SizeResult, prom: Backend) -> list[str]:
    expected = 2 * res.services * len(WINDOWS)
    notes = [
        f"backend: {prom.kind}; {res.prep_detail}",
        f"data: {res.data_start:%Y-%m-%d %H:%M} to {res.data_end:%H:%M} UTC, "
        f"{res.samples:,} samples; windows longer than "
        f"{(res.data_end - res.data_start).total_seconds() / 3600:.1f} h (3d, 28d) cover only "
        "the data there is (sloctl reports this coverage, slo-generator does not)",
        f"evaluations at {min(r.at for r in res.runs):%H:%M:%S} .. "
        f"{max(r.at for r in res.runs):%H:%M:%S} UTC, inside the data (it ends "
        f"{res.data_end:%H:%M} UTC), so every window, 5m included, is full",
    ]
    for tool in ("slo-generator", "sloctl"):
        if not res.of(tool):
            continue
        a = res.of(tool)[0].answers
        values = sum(v is not None for v in a.sli.values())
        notes.append(
            f"{tool}: {values}/{expected} SLO-window values, {a.no_data} without data, "
            f"{a.errors} errors"
            + (f", self-reported {a.query_count} queries" if a.query_count is not None else "")
            + (f"; first error: {a.first_error[:300]}" if a.first_error else "")
        )
    last = max(r.at + timedelta(seconds=r.measured.wall) for r in res.runs)
    if last > res.data_end - timedelta(seconds=300):
        notes.append(
            f"WARNING: runs went on until {last:%H:%M:%S}, near or past the data end: "
            "raise --lead-minutes"
        )
    if prom.kind == "prometheus" and "compact" in prom.log_text().lower():
        notes.append("Prometheus compacted blocks during the run (its CPU counts in both tools)")
    return notes


# --- report --------------------------------------------------------------------------------
def median_of(runs: Sequence[ToolRun], key: str) -> float:
    values = {
        "wall": [r.measured.wall for r in runs],
        "rss": [r.measured.rss_mb for r in runs],
        "queries": [float(r.queries) for r in runs],
        "cpu": [r.prom_cpu for r in runs],
        "cycle": [r.answers.cycle_seconds or 0.0 for r in runs],
    }[key]
    return statistics.median(values)


def table(results: Sequence[SizeResult]) -> Iterator[str]:
    yield (
        "| services | SLOs | tool | queries / cycle | wall s (median) | start-up s | "
        "cycle minus start-up s | peak RSS MB | Prometheus CPU s |"
    )
    yield "|---:|---:|---|---:|---:|---:|---:|---:|---:|"
    cycles: list[str] = []
    for res in results:
        row: dict[str, dict[str, float]] = {}
        for tool in ("slo-generator", "sloctl"):
            runs = res.of(tool)
            if not runs:
                continue
            row[tool] = {k: median_of(runs, k) for k in ("queries", "wall", "rss", "cpu")}
            row[tool]["startup"] = res.startup[tool]
            row[tool]["net"] = row[tool]["wall"] - row[tool]["startup"]
            v = row[tool]
            if tool == "sloctl":
                cycles.append(f"{res.services}: {median_of(runs, 'cycle'):.2f} s")
            yield (
                f"| {res.services} | {2 * res.services} | {tool} | {v['queries']:.0f} | "
                f"{v['wall']:.2f} | {v['startup']:.2f} | {v['net']:.2f} | {v['rss']:.0f} | "
                f"{v['cpu']:.2f} |"
            )
        if "slo-generator" not in row:
            continue
        s, p = row["sloctl"], row["slo-generator"]
        yield (
            f"| {res.services} | {2 * res.services} | **sloctl / slo-generator** | "
            f"**{ratio(s['queries'], p['queries'])}** | **{ratio(s['wall'], p['wall'])}** | "
            f"{ratio(s['startup'], p['startup'])} | {ratio(s['net'], p['net'])} | "
            f"{ratio(s['rss'], p['rss'])} | {ratio(s['cpu'], p['cpu'])} |"
        )
    yield ""
    yield ("sloctl's cycle itself (its started_at .. finished_at: plan, queries, assemble; "
           "without start-up, loading the specs, storing and printing), median by size: "
           + ", ".join(cycles))
    serve = [f"{r.services}: {statistics.median(c.wall for c in r.serve_cycles):.2f} s, "
             f"{max(c.rss_mb for c in r.serve_cycles):.0f} MB" for r in results if r.serve_cycles]
    if serve:
        yield ""
        yield ("One cycle as `sloctl serve` runs it (a child process: load the specs, plan, "
               "query, assemble, store; nothing printed), median wall and largest peak RSS: "
               + "; ".join(serve))


def ratio(a: float, b: float) -> str:
    if b <= 0:
        return "-"
    r = a / b
    return f"{r:.3f} (1/{1 / r:.0f})" if 0 < r < 0.5 else f"{r:.2f}"


def targets(results: Sequence[SizeResult]) -> list[str]:
    return [*peer_targets(results), *scale_targets(results)]


def scale_targets(results: Sequence[SizeResult]) -> list[str]:
    """The largest size against the size ten times smaller: queries per cycle the same, wall
    time at most 10x, sloctl's peak RSS at most 1 GB."""
    big = max(results, key=lambda r: r.services)
    small = next((r for r in results if r.services * 10 == big.services), None)
    if small is None:
        return [f"scale targets: not measured (add {big.services // 10} to --sizes)"]
    b, s = big.of("sloctl"), small.of("sloctl")
    qb, qs = median_of(b, "queries"), median_of(s, "queries")
    wall = median_of(b, "wall") / median_of(s, "wall")
    net = ((median_of(b, "wall") - big.startup["sloctl"])
           / (median_of(s, "wall") - small.startup["sloctl"]))
    rss = max(r.measured.rss_mb for r in b)
    serve_rss = max((c.rss_mb for c in big.serve_cycles), default=math.nan)
    cycle = median_of(b, "cycle") / median_of(s, "cycle") if median_of(s, "cycle") else math.nan
    return [
        f"- {'PASS' if qb == qs else 'FAIL'}: queries per cycle at {small.services} and "
        f"{big.services} services: {qs:.0f} and {qb:.0f} (constant)",
        f"- {'PASS' if wall <= SCALE_WALL_RATIO else 'FAIL'}: cycle wall time at {big.services} "
        f"/ at {small.services} services = {wall:.2f} (target <= {SCALE_WALL_RATIO:g}; "
        f"without start-up {net:.2f}; the cycle alone, plan + queries + assemble as sloctl "
        f"times it, {median_of(s, 'cycle'):.2f} s and {median_of(b, 'cycle'):.2f} s: "
        f"{cycle:.2f})",
        f"- {'PASS' if rss <= SCALE_RSS_MB else 'FAIL'}: sloctl's peak RSS at {big.services} "
        f"services: {rss:.0f} MB (`sloctl eval -o json`, largest of the runs; target <= "
        f"{SCALE_RSS_MB:.0f} MB)",
        f"- {'PASS' if serve_rss <= SCALE_RSS_MB else 'FAIL'}: peak RSS of one cycle as serve "
        f"runs it at {big.services} services: {serve_rss:.0f} MB (nothing printed; target <= "
        f"{SCALE_RSS_MB:.0f} MB)",
    ]


def peer_targets(results: Sequence[SizeResult]) -> list[str]:
    res = next((r for r in results if r.services == TARGET_SIZE), None)
    if res is None or not res.of("slo-generator"):
        return [f"targets against slo-generator at {TARGET_SIZE} services: not measured "
                f"(add {TARGET_SIZE} to --sizes, on Prometheus)"]
    s, p = res.of("sloctl"), res.of("slo-generator")
    checks = (
        ("queries", median_of(s, "queries") / median_of(p, "queries"), TARGET_QUERY_RATIO),
        ("wall time", median_of(s, "wall") / median_of(p, "wall"), TARGET_WALL_RATIO),
    )
    return [
        f"- {'PASS' if got <= limit else 'FAIL'}: {what} at {TARGET_SIZE} services: "
        f"sloctl / slo-generator = {got:.4f} (target <= 1/{1 / limit:.0f} = {limit:.3f})"
        for what, got, limit in checks
    ]


def report(results: Sequence[SizeResult], args: argparse.Namespace) -> str:
    lines = [
        "# One evaluation cycle: sloctl vs slo-generator 2.6.0",
        "",
        f"Run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores; {args.backend} "
        f"on loopback; {args.repeats} runs per tool and size (order alternated), medians shown; "
        f"slo-generator up to {args.peer_max} services (Prometheus only). "
        "2 SLOs per service (availability 99.5 %, latency 95 % <= 300 ms), 8 windows each "
        "(5m 30m 1h 2h 6h 1d 3d 28d). sloctl also evaluates its golden signals and default "
        "alerts and stores the cycle in SQLite; slo-generator only prints its reports.",
        "",
        *table(results),
        "",
        "Queries: HTTP API queries in Prometheus' query log (VictoriaMetrics: its "
        "vm_http_requests_total{path=\"/api/v1/query\"}) during the run. Wall: subprocess "
        "wall time, start-up included; start-up: `sloctl --version` / `slo-generator --help`. "
        "Peak RSS: ru_maxrss of the child (wait4). Prometheus CPU: the server's own "
        "process_cpu_seconds_total during the run (Prometheus CPU column: the backend's).",
        "",
        "## Targets",
        "",
        *targets(results),
    ]
    for res in results:
        lines += ["", f"## {res.services} services", "", *(f"- {n}" for n in res.notes)]
        lines.append(
            f"- prepare (generate + load) {res.prep_seconds:.1f} s; all of this size "
            f"{res.total_seconds:.0f} s; 1-min load average before the runs "
            f"{min(res.load):.1f} .. {max(res.load):.1f} on {os.cpu_count()} cores "
            "(other work on the machine makes timings noisy)"
        )
        if res.sanity:
            lines += ["", "Sanity check, same instant (pinned from slo-generator's query log):",
                      ""]
            lines += res.sanity
    return "\n".join(lines) + "\n"


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="10,100,1000", help="services per run (default %(default)s)")
    ap.add_argument("--quick", action="store_true", help="sizes 10,100 only")
    ap.add_argument("--repeats", type=int, default=3, help="runs per tool and size (default 3)")
    ap.add_argument("--history-hours", type=float, default=24.0, help="history before now")
    ap.add_argument("--recent-hours", type=float, default=6.0, help="part sampled every --step")
    ap.add_argument("--step", type=int, default=60, help="recent sample step, seconds")
    ap.add_argument("--history-step", type=int, default=300, help="older sample step, seconds")
    ap.add_argument(
        "--lead-minutes", type=int, default=0, help="data after now (default: from size/repeats)"
    )
    ap.add_argument("--backend", choices=("prometheus", "victoriametrics"), default="prometheus",
                    help="where the history lives (default %(default)s); victoriametrics: "
                    "imported over HTTP, sloctl alone")
    ap.add_argument("--peer-max", type=int, default=1000,
                    help="run slo-generator only up to this many services (default %(default)s)")
    ap.add_argument("--workdir", type=Path, default=None, help="temp folder (default system tmp)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown report path")
    args = ap.parse_args(argv)
    args.sizes_list = [10, 100] if args.quick else [int(s) for s in args.sizes.split(",") if s]
    if args.repeats < 1 or not args.sizes_list or min(args.sizes_list) < 1:
        ap.error("--repeats and every size must be >= 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    needs_peer = any(runs_peer(n, args) for n in args.sizes_list)
    peer = ensure_peer() if needs_peer else PEER_VENV / "bin" / "slo-generator"
    results: list[SizeResult] = []
    for n in args.sizes_list:
        results.append(bench_size(n, args, peer))
        print(f"   {n} services done in {results[-1].total_seconds:.0f} s", flush=True)
    text = report(results, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print("\n" + text + f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
