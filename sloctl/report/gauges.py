"""The weekly report's emails on ``/metrics`` (from the store's send records).

    sloctl_report_emails{state}                           emails per state, all periods
    sloctl_report_email_sent{period,scope,key}            1 sent, 0 not (yet): the latest period
    sloctl_report_email_attempts{period,scope,key,state}  attempts so far: the latest period
    sloctl_report_email_last_sent_timestamp_seconds       when the latest email was accepted

An SMTP server that is down shows as ``sent`` 0 with ``state="failed"`` and growing attempts;
``state="uncertain"`` needs a look at the mail server's log (see ``sloctl.report.deliver``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from sloctl.store.reports import SendRecord, SendState

Records = Callable[[], Sequence[SendRecord]]


class ReportCollector(Collector):
    """A prometheus-client collector over the send records ``records()`` returns."""

    def __init__(self, records: Records) -> None:
        self._records = records

    def collect(self) -> Iterator[GaugeMetricFamily]:
        records = list(self._records())
        if not records:  # no report email yet: nothing to expose
            return
        by_state = GaugeMetricFamily("sloctl_report_emails",
                                     "Weekly report emails per state, all periods.",
                                     labels=["state"])
        for state in SendState:
            by_state.add_metric([state.value],
                                float(sum(1 for r in records if r.state is state)))
        yield by_state
        labels = ["period", "scope", "key"]
        sent = GaugeMetricFamily("sloctl_report_email_sent",
                                 "1 when the email of the latest period was accepted, else 0.",
                                 labels=labels)
        attempts = GaugeMetricFamily("sloctl_report_email_attempts",
                                     "Delivery attempts of each email of the latest period.",
                                     labels=[*labels, "state"])
        latest = max((r.created_at for r in records), default=None)
        if latest is not None:
            period = next(r.period for r in records if r.created_at == latest)
            for r in records:
                if r.period == period:
                    sent.add_metric([r.period, r.scope, r.key],
                                    1.0 if r.state is SendState.SENT else 0.0)
                    attempts.add_metric([r.period, r.scope, r.key, r.state.value],
                                        float(r.attempts))
        yield sent
        yield attempts
        last = max((r.sent_at for r in records if r.sent_at is not None), default=None)
        if last is not None:
            stamp = GaugeMetricFamily("sloctl_report_email_last_sent_timestamp_seconds",
                                      "When the latest report email was accepted.")
            stamp.add_metric([], last.timestamp())
            yield stamp
