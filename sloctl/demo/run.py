"""`make demo`: a shop with known trouble, in a real Prometheus, evaluated by a running sloctl.

Steps: generate 30 days of the shop's history, backfill it with promtool, keep live traffic
going (an exporter Prometheus scrapes), load the generated rules into Prometheus and alert to a
real Alertmanager whose webhook points back at sloctl, backfill sloctl's own store with
evaluations at past instants (``sloctl eval --at``) and a deployment history for DORA, then run
``sloctl serve`` and the Streamlit scorecard until Ctrl-C or SIGTERM, which stop everything it
started. Everything listens on 127.0.0.1; files live in ``.demo/``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse

from rich.console import Console
from rich.progress import Progress

from sloctl import assets
from sloctl.demo.alertmanager_server import AlertmanagerServer
from sloctl.demo.backfill import load_history
from sloctl.demo.banner import DemoUrls, banner
from sloctl.demo.deployments import record_history, shop_history
from sloctl.demo.lifecycle import Stopped, signals_stop, stop_processes
from sloctl.demo.live import LiveExporter
from sloctl.demo.mail_sink import MailSink
from sloctl.demo.postgres_server import postgres_cluster
from sloctl.demo.process import free_port
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import Scenario, shop_scenario
from sloctl.demo.weekly_email import mail_env, send_last_week
from sloctl.evaluation.cycle import Evaluator
from sloctl.settings import load_settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs
from sloctl.store import Store

console = Console(stderr=True)


def _history_instants(end: datetime, days: int) -> list[datetime]:
    """Past evaluation instants: every 2 h over ``days``, then every 15 min for the last 12 h."""
    coarse = [end - timedelta(hours=h) for h in range(days * 24, 12, -2)]
    fine = [end - timedelta(minutes=m) for m in range(12 * 60, -1, -15)]
    return coarse + fine


def backfill_store(engine: Evaluator, instants: list[datetime]) -> None:
    """Evaluate at each past instant (what ``sloctl eval --at`` does), with a progress bar."""
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("backfilling sloctl's store", total=len(instants))
        for at in instants:
            engine.run_cycle(at)
            bar.advance(task)


def main(argv: list[str] | None = None) -> int:
    with signals_stop():
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sloctl.demo", description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path(".demo"),
                        help="its files (default .demo in the working folder), emptied first")
    parser.add_argument("--days", type=int, default=30, help="days of history (default 30)")
    parser.add_argument("--store-days", type=int, default=7,
                        help="days of past evaluations to backfill into sloctl's store")
    parser.add_argument("--dashboard-port", type=int, default=8501)
    parser.add_argument("--interval", type=int, default=30, help="sloctl serve interval (s)")
    parser.add_argument("--postgres", action="store_true",
                        help="keep sloctl's store in a throwaway PostgreSQL cluster (Debian's "
                        "postgresql 15, unix socket only), removed on exit; default: SQLite")
    parser.add_argument("--exit-after", type=float, default=0,
                        help="stop by itself after this many seconds (smoke tests)")
    args = parser.parse_args(argv)

    work: Path = args.workdir
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=2)
    scenario = shop_scenario(end, history=timedelta(days=args.days))

    t0 = time.monotonic()
    procs: list[subprocess.Popen[bytes]] = []
    cleanup = ExitStack()  # every server and file opened, closed in reverse order
    try:
        return _run(args, work, end, scenario, t0, procs, cleanup)
    except (KeyboardInterrupt, Stopped):
        console.print("\nstopping ...")
        return 0
    finally:
        stop_processes(procs)  # serve and the scorecard first, then their backends
        cleanup.close()
        console.print("demo stopped")


def _run(args: argparse.Namespace, work: Path, end: datetime, scenario: Scenario, t0: float,
         procs: list[subprocess.Popen[bytes]], cleanup: ExitStack) -> int:
    specs_dir, rules_dir = assets.path("demo-specs"), assets.path("rules", "generated")
    console.print(f"[bold]1/4[/] generating {args.days} days of shop history and backfilling "
                  "it with promtool ...")
    stats = load_history(scenario, work / "prometheus", tmp_dir=work)
    b = stats.backfilled
    console.print(f"    {b.samples:,} samples in {b.series} series, {b.blocks} TSDB block(s), "
                  f"in {time.monotonic() - t0:.0f} s")

    receiver_port = free_port()
    token = secrets.token_hex(16)
    live = cleanup.enter_context(LiveExporter(scenario))
    alertmanager = AlertmanagerServer(
        work / "alertmanager", token=token,
        webhook_url=f"http://127.0.0.1:{receiver_port}/api/v1/alertmanager")
    store_url = f"sqlite:///{(work / 'sloctl.db').resolve()}"
    if args.postgres:
        cluster = cleanup.enter_context(postgres_cluster())
        store_url = cluster.create_database("sloctl")
        console.print(f"    PostgreSQL cluster in {cluster.socket_dir} (removed on exit)")
    console.print("[bold]2/4[/] starting Alertmanager, Prometheus (with the generated "
                  "rules) and the live traffic exporter ...")
    cleanup.enter_context(alertmanager)
    # Prometheus' config names Alertmanager's port, known once Alertmanager has started
    prom = cleanup.enter_context(PrometheusServer(
        work / "prometheus", scrape_targets=[urlparse(live.url).netloc],
        scrape_interval="15s", rule_files=sorted(rules_dir.glob("*.yml")),
        alertmanagers=[alertmanager.target]))
    sink = cleanup.enter_context(MailSink(work / "mail"))  # the weekly email's SMTP server
    env = {
        **os.environ,
        "SLOCTL_PROMETHEUS_URL": prom.url,
        # the live exporter is scraped every 15 s, the last 72 h of history every 60 s
        "SLOCTL_PROMETHEUS_SCRAPE_INTERVAL": "60",
        "SLOCTL_STORE_URL": store_url,
        "SLOCTL_SPECS": str(specs_dir),
        "SLOCTL_INTERVAL": str(args.interval),
        "SLOCTL_DASHBOARD_URL": f"http://127.0.0.1:{args.dashboard_port}",
        "SLOCTL_RECEIVER_PORT": str(receiver_port),
        "SLOCTL_RECEIVER_TOKEN": token,
        "SLOCTL_ALERTMANAGER_URL": alertmanager.url,
        **mail_env(work, sink),  # the report's recipients, SMTP to the sink
    }
    settings = load_settings(None, env)
    specs = load_specs([specs_dir])
    store = Store(settings.store_url, upgrade=True)  # a new PostgreSQL database needs it
    source = PrometheusSource(settings.prometheus)
    console.print(f"[bold]3/4[/] backfilling sloctl's store: evaluations over the last "
                  f"{args.store_days} days ({len(specs)} SLOs) ...")
    # Older history is sampled every 5 minutes (Sampling.history_step): so is its coverage.
    sparse = settings.prometheus.model_copy(update={"scrape_interval_seconds": 300})
    engine = Evaluator(settings.model_copy(update={"prometheus": sparse}), specs, source, store)
    backfill_store(engine, _history_instants(end, args.store_days))
    recorded = record_history(store, shop_history(end, args.days), datetime.now(UTC))
    console.print(f"    {recorded} deployments and the order incident recorded for DORA")
    source.close()
    store.close()
    week, mails = send_last_week(settings, specs, sink, datetime.now(UTC))
    console.print(f"    last week's scorecard ({week}) emailed to the mail sink: "
                  f"{', '.join(map(str, mails))}")

    console.print("[bold]4/4[/] starting sloctl serve and the scorecard ...")
    log = cleanup.enter_context((work / "serve.log").open("wb"))
    procs.append(subprocess.Popen([sys.executable, "-m", "sloctl.cli.main", "serve"],
                                  env=env, stdout=log, stderr=subprocess.STDOUT))
    dash_log = cleanup.enter_context((work / "dashboard.log").open("wb"))
    procs.append(subprocess.Popen(  # the app, as `sloctl dashboard` runs it: on 127.0.0.1
        [sys.executable, "-m", "sloctl.cli.main", "dashboard", "--port",
         str(args.dashboard_port)], env=env, stdout=dash_log, stderr=subprocess.STDOUT))
    urls = DemoUrls(
        dashboard=f"http://127.0.0.1:{args.dashboard_port}",
        receiver=f"http://127.0.0.1:{receiver_port}",
        prometheus=prom.url, alertmanager=alertmanager.url, exporter=live.url)
    shell = {k: env[k] for k in ("SLOCTL_PROMETHEUS_URL", "SLOCTL_STORE_URL", "SLOCTL_SPECS")}
    print(banner(urls, shell, work, rules_dir, time.monotonic() - t0), flush=True)
    print(f"last week's email ({week}), as the SMTP sink on 127.0.0.1:{sink.port} received "
          f"it:\n  " + "\n  ".join(map(str, mails)), flush=True)
    deadline = time.monotonic() + args.exit_after if args.exit_after else None
    while deadline is None or time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                console.print(f"[red]{' '.join(map(str, p.args))} exited with "  # type: ignore[arg-type]
                              f"{p.returncode}; see the logs in {work}[/]")
                return 1
        time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(main())

