"""Exemplars and HTTP/span-metrics disagreements in the CLI, with the fake Jaeger over HTTP.

First on a hand-made breaching evaluation, then end to end: `sloctl eval` against the real
Prometheus of the shop scenario (payment's 5m error ratio is 1.2 %, its error_ratio alert
fires) with span metrics beside it (conftest.py: payment's agree with its HTTP metrics, order's
are halved) and the trace step on, and with Jaeger down.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.core.signals import Signal
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.runtime.trace_step import after_cycle
from sloctl.settings import load_settings
from sloctl.store import Store
from tests.support.fake_jaeger import FakeJaeger, otlp_span, search_answer, serve
from tests.support.processes import free_port
from tests.unit.test_trace_step import (
    FakePrometheus,
    checked,
    checkout_evaluation,
    checkout_traces,
)

MS = 1_000_000
SPECS = Path(__file__).resolve().parents[2] / "sloctl" / "demo" / "specs"


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A store for evaluations at fixed past instants (reading commands pass --max-age 0)."""
    url = f"sqlite:///{tmp_path / 's.db'}"
    monkeypatch.setenv("SLOCTL_STORE_URL", url)
    monkeypatch.setenv("SLOCTL_JAEGER_ENABLED", "true")
    monkeypatch.setenv("COLUMNS", "200")
    return url


def test_slo_show_and_signals_show_the_stored_exemplars_and_the_disagreement(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve(FakeJaeger(search={"checkout": checkout_traces()})) as fake:
        monkeypatch.setenv("SLOCTL_JAEGER_URL", fake.url)
        with Store(store_url) as store:
            ev = checkout_evaluation(error_ratio=0.40)  # span metrics: 10 % errors
            store.save_evaluation(ev)
            settings = load_settings()
            findings = after_cycle(checked(ev, FakePrometheus(), settings), settings, store)
    assert findings is not None and len(findings.exemplars) == 2
    cli = CliRunner()

    show = cli.invoke(app, ["slo", "show", "checkout/availability", "--max-age", "0"])
    assert show.exit_code == 0, show.output
    lines = show.stdout.splitlines()
    title = next(line for line in lines if "Exemplar traces" in line)
    assert title.strip() == "Exemplar traces: checkout, 2025-03-01 11:00 to 2025-03-01 12:00Z"
    rows = [line.split() for line in lines if f"{fake.url}/trace/" in line]
    assert [(r[0], r[-1]) for r in rows] == [
        ("slowest", f"{fake.url}/trace/{2:032x}"),
        ("slowest", f"{fake.url}/trace/{3:032x}"),
        ("slowest", f"{fake.url}/trace/{4:032x}"),
        ("failing", f"{fake.url}/trace/{3:032x}"),
    ]
    assert "900.0 ms" in lines[lines.index(next(x for x in lines if f"{2:032x}" in x))]
    disagreement = (
        "HTTP vs span metrics: checkout: error ratio from span metrics 10.00% differs from the "
        "HTTP metrics' 40.00% by more than 1 percentage point"
    )
    assert disagreement in " ".join(show.stdout.split())

    healthy = cli.invoke(app, ["slo", "show", "cart/availability", "--max-age", "0"])
    assert healthy.exit_code == 0 and "Exemplar traces" not in healthy.stdout
    assert "span metrics" not in healthy.stdout  # checkout's disagreement only

    sig = cli.invoke(app, ["signals", "checkout", "--max-age", "0"])
    assert sig.exit_code == 0
    assert disagreement in " ".join(sig.stdout.split())


def _payment_traces(end: datetime) -> bytes:
    """Three payment traces in the last 5 minutes, 120/450/80 ms, none failing."""
    t0 = int((end - timedelta(minutes=4)).timestamp()) * 1_000_000_000
    spans = [
        otlp_span(
            f"{0xA0 + n:032x}",
            f"{n:016x}",
            "POST /charge",
            kind=2,
            start_ns=t0 + n * 60_000 * MS,
            duration_ns=ms * MS,
            attributes={"http.response.status_code": 200},
        )
        for n, ms in [(1, 120), (2, 450), (3, 80)]
    ]
    return search_answer([("payment", spans)])


@pytest.fixture
def shop_env(
    prometheus_spans: PrometheusServer, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOCTL_PROMETHEUS_URL", prometheus_spans.url)
    monkeypatch.setenv("SLOCTL_SPECS", str(SPECS))
    monkeypatch.setenv("SLOCTL_PROMETHEUS_TIMEOUT", "5")


def test_eval_stores_exemplars_of_breaching_slos_and_firing_alerts(
    shop_env: None, shop_end: datetime, monkeypatch: pytest.MonkeyPatch, store_url: str
) -> None:
    cli = CliRunner()
    with serve(FakeJaeger(search={"payment": _payment_traces(shop_end)})) as fake:
        monkeypatch.setenv("SLOCTL_JAEGER_URL", fake.url)
        r = cli.invoke(app, ["eval", "--at", shop_end.isoformat(), "-q"])
    assert r.exit_code == 0, r.output
    stderr = " ".join(r.stderr.split())
    # payment's ticket burn-rate alert fires at shop_end (its default alert is still pending)
    assert (
        "exemplars of burn_rate:ticket/payment/availability: 3 slowest, 0 failing traces "
        "of payment (sloctl alerts shows them)"
    ) in stderr
    assert (
        "exemplars of payment/availability: 3 slowest, 0 failing traces of payment "
        "(sloctl slo show shows them)"
    ) in stderr
    # order's span metrics are half its HTTP metrics; payment's agree; the others have none
    assert "HTTP vs span metrics: order: request rate from span metrics" in stderr
    assert "the tracers' head sampling?" in stderr
    assert (
        "traces: span metrics: no server spans of inventory, notification, user over 5m, so "
        "their HTTP metrics were not compared"
    ) in stderr

    with Store(store_url) as store:
        findings = store.traces.findings(shop_end)
    assert findings is not None
    (order,) = findings.disagreements
    assert (order.service, order.signal) == ("order", Signal.TRAFFIC)
    assert order.spans / order.http == pytest.approx(0.5, rel=1e-6)
    alert = findings.exemplars_of("burn_rate:ticket/payment/availability")
    slo = findings.exemplars_of("payment/availability")
    assert alert is not None and slo is not None and alert.exemplars == slo.exemplars
    ex = slo.exemplars
    # the window is the alert's long_window label: its worst ticket rule is the 3d/6h pair
    assert (ex.start, ex.end) == ((shop_end - timedelta(days=3)).isoformat(), shop_end.isoformat())
    assert [t.duration_seconds for t in ex.slowest] == [0.45, 0.12, 0.08]

    show = cli.invoke(app, ["slo", "show", "payment/availability", "--max-age", "0"])
    assert show.exit_code == 0
    assert f"{fake.url}/trace/{0xA2:032x}" in show.stdout

    alerts = cli.invoke(app, ["alerts", "--max-age", "0"])
    assert alerts.exit_code == 0
    assert "Exemplars of SLOBurnRateTicket (payment)" in alerts.stdout
    assert f"{fake.url}/trace/{0xA2:032x}" in alerts.stdout

    signals = cli.invoke(app, ["signals", "order", "--max-age", "0"])
    assert "HTTP vs span metrics: order:" in " ".join(signals.stdout.split())
    payment = cli.invoke(app, ["signals", "payment", "--max-age", "0"])
    assert "HTTP vs span metrics" not in payment.stdout


def test_jaeger_down_is_a_note_and_does_not_change_the_exit_code(
    prometheus_shop: PrometheusServer,
    store_url: str,
    shop_end: datetime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLOCTL_PROMETHEUS_URL", prometheus_shop.url)  # without span metrics
    monkeypatch.setenv("SLOCTL_SPECS", str(SPECS))
    cli = CliRunner()
    at = shop_end.isoformat()
    monkeypatch.setenv("SLOCTL_JAEGER_ENABLED", "false")
    off = cli.invoke(app, ["eval", "--at", at, "-q", "--fail-on", "alert"])
    monkeypatch.setenv("SLOCTL_JAEGER_ENABLED", "true")
    monkeypatch.setenv("SLOCTL_JAEGER_URL", f"http://127.0.0.1:{free_port()}")
    down = cli.invoke(app, ["eval", "--at", at, "-q", "--fail-on", "alert"])
    assert off.exit_code == down.exit_code == 1  # alerts fire; Jaeger changes nothing
    assert "traces:" not in off.stderr
    stderr = " ".join(down.stderr.split())
    assert "traces: jaeger: cannot connect to http://127.0.0.1:" in stderr
    assert "SLO results are unaffected" in stderr
    assert "traces: span metrics: no traces_span_metrics_calls_total of server spans" in stderr

    show = cli.invoke(app, ["slo", "show", "payment/availability", "--max-age", "0"])
    assert show.exit_code == 0
    assert "traces: jaeger: cannot connect" in " ".join(show.stdout.split())
