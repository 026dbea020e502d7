"""The weekly schedule: Monday 08:00 Europe/Berlin across both DST changes (an injected clock),
catch-up within the grace period, and the job's retries with backoff until the email is sent."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sloctl.errors import SettingsError
from sloctl.report import codec
from sloctl.report.sample import sample_inputs
from sloctl.report.schedule import ReportJob, WeeklySchedule
from sloctl.report.smtp import SmtpError, SmtpTransport
from sloctl.settings import Settings, load_settings
from sloctl.store import Store
from sloctl.store.reports import SendState

BERLIN = ZoneInfo("Europe/Berlin")
DAY = timedelta(days=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def schedule() -> WeeklySchedule:
    return WeeklySchedule("0 8 * * mon", BERLIN, DAY)


def test_monday_eight_in_berlin_across_both_dst_changes(schedule: WeeklySchedule) -> None:
    # clocks go forward on Sunday 29 March 2026 and back on Sunday 25 October 2026
    fires = [schedule.next_fire(at("2026-03-21T12:00"))]
    for _ in range(2):
        fires.append(schedule.next_fire(fires[-1]))
    assert fires == [at("2026-03-23T07:00"), at("2026-03-30T06:00"), at("2026-04-06T06:00")]
    autumn = [schedule.next_fire(at("2026-10-18T12:00"))]
    autumn.append(schedule.next_fire(autumn[-1]))
    assert autumn == [at("2026-10-19T06:00"), at("2026-10-26T07:00")]
    assert all(f.astimezone(BERLIN).strftime("%a %H:%M") == "Mon 08:00" for f in fires + autumn)


def test_a_fire_reports_the_week_before_it(schedule: WeeklySchedule) -> None:
    week = schedule.period_of(at("2026-03-30T06:00"), "Europe/Berlin")
    assert (week.key, week.start, week.end) == ("2026-W13", at("2026-03-22T23:00"),
                                                 at("2026-03-29T22:00"))


@pytest.mark.parametrize(("now", "due"), [
    ("2026-03-30T05:59", None),                  # before the fire time (last one: > 1 day ago)
    ("2026-03-30T06:00", "2026-03-30T06:00"),    # on time
    ("2026-03-31T05:59", "2026-03-30T06:00"),    # missed while down: caught up within a day
    ("2026-03-31T06:00", None),                  # past the grace period
])
def test_what_is_due_now(schedule: WeeklySchedule, now: str, due: str | None) -> None:
    assert schedule.due(at(now)) == (at(due) if due else None)


class FakeTransport(SmtpTransport):
    """Fails ``failures`` times before the end of the data, then accepts."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[EmailMessage] = []

    def deliver(self, message: EmailMessage, recipients: Sequence[str],
                commit: Callable[[], bool]) -> str:
        if self.failures:
            self.failures -= 1
            raise SmtpError("cannot reach the SMTP server 127.0.0.1:25 (none): refused")
        assert commit()
        self.sent.append(message)
        return "250 ok"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def test_the_job_retries_with_backoff_and_sends_once(tmp_path: Path) -> None:
    settings = Settings.model_validate({
        "store_url": f"sqlite:///{tmp_path / 'sloctl.db'}", "timezone": "Europe/Berlin",
        "report": {"organisation": ["cto@example.com"], "smtp": {"host": "127.0.0.1"}},
    })
    fire = at("2026-12-07T07:00")  # Monday 08:00 in Berlin: reports 2026-W49
    clock = Clock(fire)
    with Store(settings.store_url) as store:
        inputs = sample_inputs(5, BERLIN, measured_at=fire)
        store.reports.save_inputs(inputs.period.key, inputs.period.start, inputs.period.end,
                                  fire, codec.encode(inputs))
        transport = FakeTransport(failures=2)
        job = ReportJob(settings, [], store, source=None,  # type: ignore[arg-type]
                        transport=transport, clock=clock)
        assert job.schedule.due(clock()) == fire
        assert job.run(fire) == fire + timedelta(minutes=1)
        clock.now = fire + timedelta(minutes=1)
        assert job.run(fire) == clock.now + timedelta(minutes=2)  # doubled
        clock.now += timedelta(minutes=2)
        assert job.run(fire) is None  # sent: nothing left to do
        assert job.run(fire) is None and len(transport.sent) == 1  # a restart: no resend
        (record,) = store.reports.sends("2026-W49")
        assert (record.state, record.attempts) == (SendState.SENT, 3)
        assert store.reports.scopes("2026-W49")[0] == "organisation"


def test_the_job_abandons_an_email_still_failing_at_the_end_of_the_grace(tmp_path: Path) -> None:
    settings = Settings.model_validate({
        "store_url": f"sqlite:///{tmp_path / 'sloctl.db'}", "timezone": "Europe/Berlin",
        "report": {"organisation": ["cto@example.com"], "smtp": {"host": "127.0.0.1"},
                   "grace_seconds": "10m", "retry_initial_seconds": "8m"},
    })
    fire = at("2026-12-07T07:00")
    clock = Clock(fire)
    with Store(settings.store_url) as store:
        inputs = sample_inputs(5, BERLIN, measured_at=fire)
        store.reports.save_inputs(inputs.period.key, inputs.period.start, inputs.period.end,
                                  fire, codec.encode(inputs))
        job = ReportJob(settings, [], store, source=None,  # type: ignore[arg-type]
                        transport=FakeTransport(failures=9), clock=clock)
        assert job.run(fire) == fire + timedelta(minutes=8)
        clock.now = fire + timedelta(minutes=8)
        assert job.run(fire) is None  # the next try (16 min on) would be past the grace
        (record,) = store.reports.sends("2026-W49")
        assert record.state is SendState.ABANDONED and record.attempts == 2
        assert "refused" in (record.last_error or "")


def test_an_invalid_address_stops_the_settings_naming_the_field(tmp_path: Path) -> None:
    config = tmp_path / "sloctl.yaml"
    config.write_text("report:\n  organisation: [cto@example.com]\n"
                      "  teams: {payments: [leads@example.com, 'leads at example.com']}\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(config, {})
    assert str(caught.value) == (
        f"invalid settings:\n  {config}:3: report.teams.payments[1]: invalid email address "
        "'leads at example.com'; write an address such as team-leads@example.com")
    with pytest.raises(SettingsError, match=r"SLOCTL_SMTP_FROM \(report.smtp.from_address\)"):
        load_settings(None, {"SLOCTL_SMTP_FROM": "sloctl@@example.com"})
    with pytest.raises(SettingsError, match=r"report\.schedule: .*invalid cron expression"):
        load_settings(None, {"SLOCTL_CONFIG": str(_write(tmp_path, "report: {schedule: 'x'}"))})


def _write(folder: Path, text: str) -> Path:
    path = folder / "other.yaml"
    path.write_text(text + "\n")
    return path
