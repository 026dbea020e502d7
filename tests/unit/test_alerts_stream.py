"""`sloctl alerts -o json` streams: rows are written as the store yields them, and the output
is the same JSON document, byte for byte, as the one the other formats are built from."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from sloctl.cli.alert_rows import firing_now
from sloctl.cli.main import app
from sloctl.cli.output import to_json, write_json_stream
from sloctl.core import alert_rules
from sloctl.core.alerts import AlertState
from sloctl.redact import redact, register_secret
from sloctl.store import Store, StoreReader
from sloctl.store.alerts import AlertReads
from sloctl.store.incidents import Notification, ReceivedAlert, StoredAlert
from tests.support.evaluations import alert as sloctl_alert
from tests.support.evaluations import evaluation

NOW = datetime.now(UTC).replace(microsecond=0)
BULK = 2_500  # more than two of the store's batches of 1,000
PROMETHEUS = "http://127.0.0.1:9090/graph?g0.expr=x"


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def received(fp: str, name: str, service: str, start: datetime, **labels: str) -> ReceivedAlert:
    return ReceivedAlert(fp, "firing", start, None,
                         {"alertname": name, "service": service, "severity": "page", **labels},
                         {"summary": f"{name} on {service}"})


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return fill(tmp_path, BULK)


def fill(folder: Path, bulk_count: int) -> str:
    """Bulk alerts (10 min ago and older), checkout's page received twice (two windows, 6 and 4
    min ago) and raised by sloctl too, sloctl's latency page alone (3 min ago), a received alert
    at the same instant, and a fresh one (2 min ago)."""
    url = f"sqlite:///{folder / 'sloctl.db'}"
    page = replace(sloctl_alert("burn_rate:page/checkout/availability", AlertState.FIRING,
                                ago(5)), rule="slo_burn_rate_page")
    page = replace(page, labels={**alert_rules.slo_alert_labels(
        alert_rules.BURN_RATE_PAGE, "checkout", "availability", {"team": "payments"})})
    latency = replace(page, key="burn_rate:page/checkout/latency", slo_id="checkout/latency",
                      labels={**page.labels, "slo": "latency", "sloth_slo": "latency",
                              "sloth_id": "checkout-latency"}, fired_at=ago(3))
    identity = alert_rules.identity_labels(page)
    windows = [replace(received(fp, "", "checkout", ago(m)), generator_url=PROMETHEUS,
                       labels={**identity, "long_window": w, "short_window": s})
               for fp, m, w, s in (("page-1h", 6, "1h", "5m"), ("page-6h", 4, "6h", "30m"))]
    with Store(url) as store:
        bulk = [received(f"bulk-{i:05d}", "Bulk", f"s{i % 7}", ago(10) - timedelta(seconds=i),
                         instance=f"i{i}")
                for i in range(bulk_count)]
        store.alerts.record(Notification("sloctl", "firing", "bulk", bulk), NOW)
        store.alerts.record(Notification("sloctl", "firing", "page", windows), NOW)
        store.alerts.record(Notification("sloctl", "firing", "recent", [
            received("tie", "Tie", "cart", ago(3)), received("fresh", "Fresh", "cart", ago(2))]),
            NOW)
        store.save_evaluation(evaluation(ago(1), [], alerts=[page, latency]))
    return url


def run(url: str, *args: str) -> Result:
    env = {"SLOCTL_STORE_URL": url, "SLOCTL_CONFIG": "", "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["alerts", *args, "--max-age", "0"], env=env)
    assert result.exit_code == 0, result.output
    return result


def test_streamed_json_is_the_document_of_the_other_formats(tmp_path: Path) -> None:
    url = fill(tmp_path, 300)  # YAML of thousands of rows would take seconds
    streamed = run(url, "-o", "json").stdout
    document = yaml.safe_load(run(url, "-o", "yaml").stdout)  # built whole, not streamed
    assert json.loads(streamed) == document
    assert streamed == to_json(document) + "\n"  # the same bytes as the document's JSON
    assert len(document) == 300 + 4


def test_rows_newest_first_one_per_condition_with_their_sources(store_url: str) -> None:
    rows = json.loads(run(store_url, "-o", "json").stdout)
    head = [(r["alert"], r["service"], r["since"], r["sources"], r.get("fingerprint"))
            for r in rows[:5]]
    assert head == [
        ("Fresh", "cart", ago(2).isoformat(), ["alertmanager"], "fresh"),
        ("Tie", "cart", ago(3).isoformat(), ["alertmanager"], "tie"),  # received first on a tie
        ("SLOBurnRatePage", "checkout", ago(3).isoformat(), ["sloctl"], None),
        # both windows of one condition: its newest instance, joined with sloctl's own alert
        ("SLOBurnRatePage", "checkout", ago(4).isoformat(),
         ["sloctl", "alertmanager (prometheus)"], "page-6h"),
        ("Bulk", "s0", ago(10).isoformat(), ["alertmanager"], "bulk-00000"),
    ]
    assert rows[3]["key"] == "burn_rate:page/checkout/availability"
    assert rows[2]["labels"]["slo"] == "latency" and rows[3]["labels"]["slo"] == "availability"
    assert rows[-1]["fingerprint"] == f"bulk-{BULK - 1:05d}"


def test_limit_and_service_apply_to_the_stream(store_url: str) -> None:
    three = json.loads(run(store_url, "-o", "json", "--limit", "3").stdout)
    assert [r["alert"] for r in three] == ["Fresh", "Tie", "SLOBurnRatePage"]
    checkout = json.loads(run(store_url, "-o", "json", "--service", "checkout").stdout)
    assert [(r["since"], r["sources"][0]) for r in checkout] == [
        (ago(3).isoformat(), "sloctl"), (ago(4).isoformat(), "sloctl")]
    table = run(store_url, "--limit", "2").stdout
    assert "Fresh" in table and "Tie" in table and "Bulk" not in table


class CountingReads:
    """The store's alert reads, counting the rows the listing pulled from the full stream."""

    def __init__(self, reads: AlertReads) -> None:
        self.reads = reads
        self.pulled = 0

    def iter_firing(
        self, limit: int | None = None, batch: int = 1000,
        alertnames: Collection[str] | None = None,
    ) -> Iterator[StoredAlert]:
        for a in self.reads.iter_firing(limit, batch, alertnames):
            self.pulled += alertnames is None
            yield a


def test_rows_are_yielded_as_the_store_yields_them(store_url: str) -> None:
    with StoreReader(store_url) as reader:
        reads = CountingReads(reader.alerts)
        rows = firing_now(reads, reader.evaluations.latest(), "http://127.0.0.1:8501")
        first = [next(rows)["alert"] for _ in range(4)]
        assert reads.pulled <= 4  # of 2,504: nothing read ahead
        assert first == ["Fresh", "Tie", "SLOBurnRatePage", "SLOBurnRatePage"]
        assert sum(1 for _ in rows) == BULK
        assert reads.pulled == BULK + 4  # every stored firing alert, read once


def test_the_stream_writer_writes_the_documents_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    register_secret("Stream-Secret-31")
    items = [{"a": [1, {"b": None}], "when": NOW, "text": "two\nlines é"},
             {"url": "http://u:Stream-Secret-31@h", "empty": {}, "none": []}]
    for doc in (items, []):
        assert write_json_stream(iter(doc)) == len(doc)
        assert capsys.readouterr().out == redact(to_json(doc)) + "\n"
    write_json_stream(iter(items))
    assert '"url": "http://u:***@h"' in capsys.readouterr().out
