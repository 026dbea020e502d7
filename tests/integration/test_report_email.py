"""The weekly email through a real SMTP server on loopback (aiosmtpd, STARTTLS and AUTH with a
certificate generated here), sent by the real `sloctl report weekly --send` in child processes.

The week's inputs are stored first (sloctl.report.sample: known figures), so the command builds
from them without a Prometheus. Checked: subject and MIME structure, every cid image present and
a PNG, the figures equal to the stored scorecard, no secret in the message, the output or the
store, one email across a restart, and across a process killed at every point of the protocol.
"""

from __future__ import annotations

import email
import email.policy
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sloctl.demo.mail_sink import MailSink
from sloctl.report import codec, fmt
from sloctl.report.read import load_scorecard
from sloctl.report.sample import sample_inputs
from sloctl.report.scorecard import ORGANISATION, PeriodScorecard
from sloctl.report.weekly import publish
from sloctl.settings import load_settings
from sloctl.store import Store, StoreReader
from sloctl.store.reports import SendState
from tests.support.sloctl_process import sloctl_env
from tests.support.tls_cert import self_signed, server_context

ROOT = Path(__file__).resolve().parents[2]
CRASH = ROOT / "tests" / "support" / "report_crash.py"
PASSWORD = "s3cret-Pa55-for-smtp"
USER = "reporter"
BERLIN = ZoneInfo("Europe/Berlin")
WEEK = "2026-W49"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def tls(tmp_path: Path) -> tuple[Path, Path]:
    return self_signed(tmp_path)


@pytest.fixture
def sink(tmp_path: Path, tls: tuple[Path, Path]) -> Iterator[MailSink]:
    with MailSink(tmp_path / "mail", starttls=server_context(*tls),
                  credentials=(USER, PASSWORD)) as server:
        yield server


@pytest.fixture
def env(tmp_path: Path, sink: MailSink, tls: tuple[Path, Path]) -> dict[str, str]:
    config = tmp_path / "sloctl.yaml"
    config.write_text(f"""
report:
  lease_seconds: 1
  app_url: http://127.0.0.1:8501
  organisation: [cto@example.com, "VP Eng <vp@example.com>"]
  teams: {{payments: [payments-leads@example.com]}}
  smtp: {{security: starttls, ca_file: {tls[0]}, from_address: sloctl@example.com}}
""")
    values = sloctl_env(tmp_path, smtp_host="127.0.0.1", smtp_port=str(sink.port),
                        smtp_username=USER, smtp_password=PASSWORD, timezone="Europe/Berlin",
                        prometheus_url="http://127.0.0.1:9")  # never asked: inputs are stored
    values["SLOCTL_CONFIG"] = str(config)
    settings = load_settings(config, values)
    with Store(settings.store_url) as store:
        inputs = sample_inputs(5, BERLIN, measured_at=datetime(2026, 12, 7, 6, tzinfo=UTC))
        period = inputs.period
        store.reports.save_inputs(period.key, period.start, period.end, inputs.measured_at,
                                  codec.encode(inputs))
    return values


def sloctl(args: list[str], env: dict[str, str], cwd: Path,
           crash: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(CRASH), crash] if crash else [
        sys.executable, "-m", "sloctl.cli.main"]
    return subprocess.run([*command, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120, check=False)


SEND = ["report", "weekly", "--week", WEEK, "--send"]


def parsed(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def stored_card(env: dict[str, str], scope: str = "organisation") -> PeriodScorecard:
    with StoreReader(env["SLOCTL_STORE_URL"]) as reader:
        card = load_scorecard(reader, WEEK, scope)
    assert card is not None
    return card


def test_the_email_over_starttls_and_auth_shows_the_stored_scorecard(
    env: dict[str, str], sink: MailSink, tmp_path: Path,
) -> None:
    result = sloctl(SEND, env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(sink.messages) == 2  # the organisation's and the payments team's
    by_to = {parsed(raw)["To"]: parsed(raw) for _, raw in sink.messages}
    org = by_to["cto@example.com, vp@example.com"]  # the normalised list
    assert str(org["Subject"]) == ("[sloctl] Organisation scorecard 2026-W49: outside goals, "
                                   "1 SLO(s) breached")
    assert org["From"] == "sloctl@example.com" and org["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"<sloctl-report\.2026-W49\.organisation\.[0-9a-f]{16}@example\.com>",
                        org["Message-ID"])
    # multipart/alternative: text/plain, then multipart/related (text/html + the PNGs)
    assert org.get_content_type() == "multipart/alternative"
    text_part, related = org.get_payload()  # type: ignore[misc]
    assert text_part.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *images = related.get_payload()
    assert html_part.get_content_type() == "text/html"
    html = html_part.get_content()
    cids = set(re.findall(r'src="cid:([^"]+)"', html))
    assert cids == {f"spark-{k}@sloctl" for k in ("availability", "deploys", "lead_time",
                                                  "change_failure_rate", "restore")} | {
        "budget-left@sloctl"}
    assert {i["Content-ID"].strip("<>") for i in images} == cids
    for image in images:
        assert image.get_content_type() == "image/png"
        assert image.get_content_disposition() == "inline"
        assert image.get_content().startswith(PNG)
    for forbidden in ("<script", "<style", "<link", 'src="http', "src='http"):
        assert forbidden not in html.lower()
    assert 'width="600"' in html

    card = stored_card(env)
    text = text_part.get_content()
    assert card.headline in text and card.headline in html
    for line in card.slos[:15]:  # the SLO table's rows: every figure of the stored card
        row = next(ln for ln in text.splitlines() if ln.startswith(f"- {line.slo_id} ["))
        for figure in (fmt.attainment(line.attainment), fmt.percent(line.budget_left, 1),
                       fmt.percent(line.weighted_impact, 1), fmt.count(line.events),
                       fmt.percent(line.objective, 2), line.status.value,
                       fmt.delta("sli", line.attainment_change)):
            assert figure in row, (line.slo_id, figure)
            assert figure in html, (line.slo_id, figure)
    kpis = {k.key: k for k in card.kpis}
    assert f"Availability: {fmt.attainment(kpis['availability'].value)} (goal 99.95 %: " \
           "missed)" in text
    for k in card.kpis:
        assert k.goal in html and fmt.delta("sli" if k.key == "availability" else (
            "count" if k.key == "slos_met" else k.unit), k.change) in html
    for d in card.dora:
        assert f"n={d.week_n}" in html and d.title in text
    assert fmt.attainment(card.combined.sli) in text
    assert "http://127.0.0.1:8501/?period=2026-W49" in text
    team = by_to["payments-leads@example.com"]
    assert "Team payments scorecard 2026-W49" in str(team["Subject"])
    assert fmt.attainment(stored_card(env, "team/payments").combined.sli) in \
        team.get_body(("plain",)).get_content()  # type: ignore[union-attr]

    # no secret anywhere: messages, the command's output, the store
    for _, raw in sink.messages:
        assert PASSWORD.encode() not in raw
    assert PASSWORD not in result.stdout + result.stderr
    assert PASSWORD.encode() not in Path(env["SLOCTL_STORE_URL"].removeprefix(
        "sqlite:///")).read_bytes()


def test_one_email_across_a_restart(env: dict[str, str], sink: MailSink, tmp_path: Path) -> None:
    first = sloctl([*SEND, "--to", "cto@example.com"], env, tmp_path)
    assert first.returncode == 0, first.stderr
    again = sloctl([*SEND, "--to", "CTO@example.com"], env, tmp_path)  # the same list
    assert again.returncode == 0, again.stderr
    assert len(sink.messages) == 1
    assert "organisation -> cto@example.com: sent" in again.stdout
    with StoreReader(env["SLOCTL_STORE_URL"]) as reader:
        records = reader.reports.sends(WEEK)
    assert [(r.state, r.attempts) for r in records] == [(SendState.SENT, 1)]


@pytest.mark.parametrize(("phase", "delivered", "state"), [
    ("claimed", 1, SendState.SENT),      # recorded, nothing sent: sent by the next run
    ("connected", 1, SendState.SENT),    # taken, no data: sent again after the lease
    ("data-sent", 1, SendState.SENT),    # data without its final ".": the server dropped it
    ("committing", 0, SendState.UNCERTAIN),  # the ambiguous window: never sent twice
    ("accepted", 1, SendState.UNCERTAIN),    # accepted, not recorded: not sent again
])
def test_one_email_at_most_when_the_sender_is_killed(
    env: dict[str, str], sink: MailSink, tmp_path: Path, phase: str, delivered: int,
    state: SendState,
) -> None:
    args = [*SEND, "--to", "cto@example.com"]
    crashed = sloctl(args, env, tmp_path, crash=phase)
    assert crashed.returncode == -9, crashed.stderr
    restarted = sloctl(args, env, tmp_path)
    assert len(sink.messages) == delivered, restarted.stderr
    with StoreReader(env["SLOCTL_STORE_URL"]) as reader:
        (record,) = reader.reports.sends(WEEK)
    assert record.state is state
    if state is SendState.UNCERTAIN:
        assert restarted.returncode == 3
        assert record.message_id in (record.last_error or "")
        assert "may have been delivered" in (record.last_error or "")
    else:
        assert restarted.returncode == 0, restarted.stderr
        (_, raw), = sink.messages
        assert parsed(raw)["Message-ID"] == record.message_id
    third = sloctl(args, env, tmp_path)  # and never again afterwards
    assert len(sink.messages) == delivered and third.returncode == restarted.returncode


def test_smtp_down_is_recorded_and_retried_later(env: dict[str, str], sink: MailSink,
                                                 tmp_path: Path) -> None:
    sink.stop()
    down = sloctl([*SEND, "--to", "cto@example.com"], env, tmp_path)
    assert down.returncode == 3
    assert "not sent yet (attempt 1 failed; next attempt" in down.stdout
    assert "cannot reach the SMTP server 127.0.0.1" in down.stderr
    assert PASSWORD not in down.stdout + down.stderr
    with StoreReader(env["SLOCTL_STORE_URL"]) as reader:
        (record,) = reader.reports.sends(WEEK)
    assert record.state is SendState.FAILED and record.next_attempt_at is not None
    assert (record.next_attempt_at - record.updated_at).total_seconds() == 60  # first backoff


def test_a_store_copy_rebuilds_the_same_scorecard(env: dict[str, str], tmp_path: Path) -> None:
    settings = load_settings(Path(env["SLOCTL_CONFIG"]), env)
    with Store(settings.store_url) as store:
        from sloctl.report.read import load_inputs

        inputs = load_inputs(store, WEEK)
        assert inputs is not None
        first = publish(store, inputs, settings, datetime.now(UTC))[ORGANISATION.key]
    copy = tmp_path / "copy.db"
    shutil.copy(settings.store_url.removeprefix("sqlite:///"), copy)
    with StoreReader(f"sqlite:///{copy}") as reader:
        assert load_scorecard(reader, WEEK, ORGANISATION) == first


def sent_metrics(port: int) -> bytes | None:
    """/metrics once it shows one report email sent."""
    from tests.support.processes import http_get

    body = http_get(f"http://127.0.0.1:{port}/metrics")
    return body if body and b'sloctl_report_emails{state="sent"} 1.0' in body else None


def test_serve_catches_up_the_missed_monday_once_across_a_restart(
    tmp_path: Path, sink: MailSink, tls: tuple[Path, Path],
) -> None:
    from sloctl.report.schedule import WeeklySchedule
    from tests.support.processes import free_port, wait_until
    from tests.support.sloctl_process import sloctl_serve

    grace = timedelta(days=8)  # whatever today is, the last Monday 08:00 is within it
    fire = WeeklySchedule("0 8 * * mon", BERLIN, grace).due(datetime.now(UTC))
    assert fire is not None
    week = WeeklySchedule("0 8 * * mon", BERLIN, grace).period_of(fire, "Europe/Berlin")
    config = tmp_path / "sloctl.yaml"
    config.write_text(f"""
report:
  grace_seconds: 8d
  organisation: [cto@example.com]
  smtp: {{security: starttls, ca_file: {tls[0]}, from_address: sloctl@example.com}}
""")
    port = free_port()
    env = sloctl_env(tmp_path, smtp_host="127.0.0.1", smtp_port=str(sink.port),
                     smtp_username=USER, smtp_password=PASSWORD, timezone="Europe/Berlin",
                     prometheus_url="http://127.0.0.1:9", receiver_port=str(port))
    env["SLOCTL_CONFIG"] = str(config)
    with Store(env["SLOCTL_STORE_URL"]) as store:  # the week, measured before: no Prometheus
        inputs = sample_inputs(5, BERLIN, measured_at=fire, week=week.key)
        store.reports.save_inputs(week.key, week.start, week.end, fire, codec.encode(inputs))
    for run in range(2):
        with sloctl_serve(env, tmp_path) as serving:
            metrics = wait_until(lambda: sent_metrics(port), 90,
                                 "the sent report email on /metrics", serving.proc)
            assert re.search(rb'sloctl_report_email_sent\{[^}]*scope="organisation"[^}]*\} 1\.0',
                             metrics)
            stopped = serving.terminate()
        assert stopped.returncode == 0, stopped.output
        assert PASSWORD not in stopped.output
        assert len(sink.messages) == 1, run
    assert f"Organisation scorecard {week.key}" in str(parsed(sink.messages[0][1])["Subject"])


def test_implicit_tls_and_lines_that_start_with_a_dot(tmp_path: Path,
                                                      tls: tuple[Path, Path]) -> None:
    from sloctl.report.config import SmtpSettings
    from sloctl.report.smtp import SmtpTransport

    with MailSink(tmp_path / "tls-mail", implicit_tls=server_context(*tls),
                  credentials=(USER, PASSWORD)) as server:
        smtp = SmtpSettings(host="127.0.0.1", port=server.port, security="tls", username=USER,
                            password=PASSWORD, ca_file=str(tls[0]))  # type: ignore[arg-type]
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "x"
        message.set_content("first\n.\n.starts with a dot\n")
        reply = SmtpTransport(smtp).deliver(message, ["b@example.com"], lambda: True)
        assert reply.startswith("250 ")
        (_, raw), = server.messages
    assert parsed(raw).get_content().replace("\r\n", "\n") == "first\n.\n.starts with a dot\n"
