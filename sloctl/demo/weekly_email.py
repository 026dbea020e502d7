"""The demo's weekly email: last week's scorecard, sent to the demo's mail sink on loopback.

``mail_env`` writes ``.demo/sloctl.yaml`` (the report's recipients: the CTO and the shop team)
and returns the variables that point sloctl's SMTP settings at the sink (plain SMTP on
127.0.0.1); ``send_last_week`` measures the last complete week, stores it and sends its emails
exactly as ``sloctl report weekly --send`` does, and returns where the sink put them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sloctl.demo.mail_sink import MailSink
from sloctl.report.measure import inputs_for
from sloctl.report.period import last_complete_week
from sloctl.report.smtp import SmtpTransport
from sloctl.report.weekly import outgoing, publish, send_all
from sloctl.settings import Settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.models import SLOSpec
from sloctl.store import Store
from sloctl.store.reports import SendState

RECIPIENTS = "  organisation: [cto@shop.example]\n  teams: {shop: [shop-leads@shop.example]}\n"


def mail_env(work: Path, sink: MailSink) -> dict[str, str]:
    """The settings file and variables that send sloctl's report to ``sink``."""
    config = work / "sloctl.yaml"
    config.write_text(f"# written by the demo: who gets the weekly scorecard\nreport:\n"
                      f"{RECIPIENTS}", encoding="utf-8")
    return {
        "SLOCTL_CONFIG": str(config),
        "SLOCTL_SMTP_HOST": "127.0.0.1",
        "SLOCTL_SMTP_PORT": str(sink.port),
        "SLOCTL_SMTP_SECURITY": "none",
        "SLOCTL_SMTP_FROM": "sloctl@shop.example",
    }


def send_last_week(settings: Settings, specs: Sequence[SLOSpec], sink: MailSink,
                   now: datetime) -> tuple[str, list[Path]]:
    """Last week's report, stored and sent; (the week, the .eml files the sink received)."""
    period = last_complete_week(now, settings.tzinfo, settings.timezone)
    before = len(sink.messages)
    source = PrometheusSource(settings.prometheus)
    try:
        with Store(settings.store_url) as store:
            inputs, _ = inputs_for(period, settings, specs, store, source, now)
            cards = publish(store, inputs, settings, now)
            records = send_all(store, settings, outgoing(cards, settings),
                               SmtpTransport(settings.report.smtp), lambda: datetime.now(UTC))
    finally:
        source.close()
    failed = [r for r in records if r.state is not SendState.SENT]
    if failed:
        raise RuntimeError(f"the demo's weekly email was not sent: {failed[0].last_error}")
    return period.key, [path for path, _ in sink.messages[before:]]
