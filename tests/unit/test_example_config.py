"""The example settings file in the repository loads and means what its comments say."""

from pathlib import Path

from sloctl.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]


def test_example_settings_load() -> None:
    s = load_settings(ROOT / "sloctl.example.yaml", env={})
    assert s.timezone == "Europe/Berlin"
    assert s.default_alerts.error_ratio.threshold == 0.005
    assert s.default_alerts.latency_p95.threshold == 0.3
    assert s.default_alerts.latency_p95.for_seconds == 300
    assert s.specs == (ROOT / "rules" / "slos",)


def test_example_report_settings_send_nothing_until_an_smtp_host_is_set() -> None:
    r = load_settings(ROOT / "sloctl.example.yaml", env={}).report
    assert (r.schedule, r.grace_seconds, r.organisation) == ("0 8 * * mon", 86400,
                                                            ("cto@example.com",))
    assert r.smtp.host is None and not r.sends_email
    with_host = load_settings(ROOT / "sloctl.example.yaml", env={"SLOCTL_SMTP_HOST": "smtp.x"})
    assert with_host.report.sends_email
