"""The ``report:`` section of the settings: schedule, recipients, thresholds, goals and SMTP.

Models only (pydantic): ``sloctl.settings`` holds them as ``Settings.report`` and reads the SMTP
variables (``SLOCTL_SMTP_*``). Every address is checked when the settings load, so a typo stops
``sloctl serve`` at start naming the field (``report.teams.payments[1]: ...``).

    report:
      schedule: "0 8 * * mon"          # cron in the settings' timezone: Monday 08:00
      organisation: [cto@example.com]
      teams: {payments: [payments-leads@example.com]}
      smtp: {host: smtp.example.com, port: 587, security: starttls, from_address: ...}
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

from sloctl.spec.fields import DurationSeconds

_DOMAIN_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$")
_CRON_FIELDS = 5


def check_address(value: str) -> str:
    """``name@example.com`` (or ``Name <name@example.com>``); ValueError saying how to fix."""
    hint = "write an address such as team-leads@example.com"
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"an email address must be one line; {hint}")
    _, address = parseaddr(value)
    local, at, domain = address.rpartition("@")
    labels = domain.split(".")
    if (not at or not _LOCAL.match(local) or local.startswith(".") or ".." in local
            or not all(_DOMAIN_LABEL.match(label) for label in labels)
            or (len(labels) < 2 and domain != "localhost")):
        raise ValueError(f"invalid email address {value!r}; {hint}")
    return value.strip()


def _cron(value: str) -> str:
    if len(value.split()) != _CRON_FIELDS:
        raise ValueError(f"invalid cron expression {value!r}: it needs 5 fields (minute hour "
                         "day month day-of-week), e.g. '0 8 * * mon' for Monday 08:00")
    try:
        from apscheduler.triggers.cron import CronTrigger
    except ModuleNotFoundError:  # the CLI without the serve extra: serve, which has it, checks
        return value

    try:
        CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"invalid cron expression {value!r}: {exc}; e.g. '0 8 * * mon'") from None
    return value


EmailAddress = Annotated[str, AfterValidator(check_address)]
Share = Annotated[float, Field(gt=0, lt=1)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SmtpSettings(_Frozen):
    """Where the weekly email goes out. No ``host``: no email is sent (files only).

    ``security``: ``starttls`` (port 587, the default), ``tls`` (implicit TLS, port 465) or
    ``none`` (a relay on loopback). ``username``/``password`` come from SLOCTL_SMTP_USERNAME and
    SLOCTL_SMTP_PASSWORD; the password is never logged, stored nor put in a message.
    """

    host: Annotated[str, Field(min_length=1)] | None = None
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_address: EmailAddress = "sloctl@localhost"
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    ca_file: str | None = None  # a CA bundle to trust besides the system's (private relays)


class ReportSettings(_Frozen):
    """The weekly scorecard email and its thresholds (README: The weekly report)."""

    schedule: Annotated[str, AfterValidator(_cron)] = "0 8 * * mon"
    grace_seconds: DurationSeconds = 86400  # a missed run is caught up within this long
    app_url: Annotated[str, Field(min_length=1)] | None = None  # default: dashboard_url
    organisation: tuple[EmailAddress, ...] = ()
    teams: dict[str, tuple[EmailAddress, ...]] = {}
    trailing_weeks: Annotated[int, Field(ge=2, le=52)] = 12
    warning_budget_left: Share = 0.25
    warning_burn_rate: Annotated[float, Field(gt=0)] = 1.0
    goal_availability: Share = 0.9995
    first_incident_weeks: Annotated[int, Field(ge=1)] = 4
    largest_drops: Annotated[int, Field(ge=0)] = 3
    retry_initial_seconds: DurationSeconds = 60
    retry_max_seconds: DurationSeconds = 3600
    lease_seconds: DurationSeconds = 120  # how long one send attempt may hold its record
    smtp: SmtpSettings = SmtpSettings()

    @property
    def sends_email(self) -> bool:
        """True when ``sloctl serve`` sends: an SMTP host and at least one recipient."""
        return self.smtp.host is not None and bool(
            self.organisation or any(self.teams.values()))
