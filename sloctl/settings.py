"""Settings: the only place that reads SLOCTL_* environment variables and the settings file.

Precedence: defaults < settings file < environment. The file is ``config_file``, else
``$SLOCTL_CONFIG``, else ``./sloctl.yaml`` if it exists. Relative ``specs`` paths in the file are
relative to the file's folder; in ``SLOCTL_SPECS`` to the working directory.
"""

from __future__ import annotations

import copy
import difflib
import os
import re
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    model_validator,
)

from sloctl.dora.model import DoraConfig, HouseGoals
from sloctl.errors import SettingsError
from sloctl.redact import redact, register_secret, register_url
from sloctl.report.config import ReportSettings
from sloctl.spec.error_messages import describe_error, loc_path
from sloctl.spec.fields import DurationOrZero, DurationSeconds, LabelName, PresetName, Threshold
from sloctl.spec.models import ServiceIdentity, SLOSpec
from sloctl.spec.presets import HttpPreset, get_preset
from sloctl.spec.stream_selector import parse_stream_selector
from sloctl.spec.yaml_source import YamlSyntaxError, line_of, load_documents

SignalGroup = tuple[str, ServiceIdentity]  # (preset name, identity) of golden signals
CONFIG_ENV = "SLOCTL_CONFIG"
DEFAULT_CONFIG_FILE = "sloctl.yaml"
ENV_PREFIX = "SLOCTL_"
# Environment variable -> settings field path.
ENV_FIELDS: dict[str, tuple[str, ...]] = {
    "SLOCTL_PROMETHEUS_URL": ("prometheus", "url"),
    "SLOCTL_PROMETHEUS_TIMEOUT": ("prometheus", "timeout_seconds"),
    "SLOCTL_PROMETHEUS_BEARER_TOKEN": ("prometheus", "bearer_token"),
    "SLOCTL_PROMETHEUS_USERNAME": ("prometheus", "username"),
    "SLOCTL_PROMETHEUS_PASSWORD": ("prometheus", "password"),
    "SLOCTL_PROMETHEUS_SCRAPE_INTERVAL": ("prometheus", "scrape_interval_seconds"),
    "SLOCTL_PROMETHEUS_MAX_SERIES": ("prometheus", "max_series"),
    "SLOCTL_PROMETHEUS_MAX_BYTES": ("prometheus", "max_bytes"),
    "SLOCTL_PROMETHEUS_TENANT": ("prometheus", "tenant"),
    "SLOCTL_PROMETHEUS_TENANT_HEADER": ("prometheus", "tenant_header"),
    "SLOCTL_PROMETHEUS_PARTIAL_RESPONSE": ("prometheus", "partial_response"),
    "SLOCTL_STORE_URL": ("store_url",),
    "SLOCTL_INTERVAL": ("interval_seconds",),
    "SLOCTL_TIMEZONE": ("timezone",),
    "SLOCTL_SPECS": ("specs",),
    "SLOCTL_DASHBOARD_URL": ("dashboard_url",),
    "SLOCTL_DASHBOARD_AUTH_HEADER": ("dashboard", "auth_header"),
    "SLOCTL_DASHBOARD_ALLOWED_USERS": ("dashboard", "allowed_users"),
    "SLOCTL_LOG_LEVEL": ("log_level",),
    "SLOCTL_LOG_FORMAT": ("log_format",),
    "SLOCTL_RECEIVER_HOST": ("receiver", "host"),
    "SLOCTL_RECEIVER_PORT": ("receiver", "port"),
    "SLOCTL_RECEIVER_TOKEN": ("receiver", "token"),
    "SLOCTL_ALERTMANAGER_URL": ("alertmanager", "url"),
    "SLOCTL_RUNBOOK_URL": ("alertmanager", "runbook_url"),
    "SLOCTL_JAEGER_URL": ("jaeger", "url"),
    "SLOCTL_JAEGER_ENABLED": ("jaeger", "enabled"),
    "SLOCTL_LOKI_URL": ("loki", "url"),
    "SLOCTL_LOKI_TENANT": ("loki", "tenant"),
    "SLOCTL_OTLP_ENDPOINT": ("telemetry", "otlp_endpoint"),
    "SLOCTL_RETENTION_RAW_DAYS": ("retention", "raw_days"),
    "SLOCTL_RETENTION_HOURLY_DAYS": ("retention", "hourly_days"),
    "SLOCTL_RETENTION_DAILY_DAYS": ("retention", "daily_days"),
    "SLOCTL_SMTP_HOST": ("report", "smtp", "host"),
    "SLOCTL_SMTP_PORT": ("report", "smtp", "port"),
    "SLOCTL_SMTP_SECURITY": ("report", "smtp", "security"),
    "SLOCTL_SMTP_USERNAME": ("report", "smtp", "username"),
    "SLOCTL_SMTP_PASSWORD": ("report", "smtp", "password"),
    "SLOCTL_SMTP_FROM": ("report", "smtp", "from_address"),
}


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"must be an http(s) URL such as http://127.0.0.1:9090; got {redact(repr(value))}"
        )
    return value.rstrip("/")


def _store_url(value: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(value)
    except ArgumentError:
        raise ValueError(
            f"invalid store URL {redact(repr(value))}; use an SQLAlchemy URL such as "
            "sqlite:////var/lib/sloctl/sloctl.db or postgresql+psycopg://user@127.0.0.1/sloctl"
        ) from None
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(
            f"unknown time zone {value!r}; use an IANA name such as UTC or Europe/Paris"
        ) from None
    return value


def _at_least_5(value: int) -> int:
    if value < 5:
        raise ValueError(f"interval must be at least 5 seconds; got {value}")
    return value


def _error_ratio(value: float) -> float:
    if not 0 < value < 1:
        raise ValueError(f"error ratio threshold must be between 0 and 1, e.g. 0.005; got {value}")
    return value


_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP token (RFC 9110)


def _header_name(value: str) -> str:
    if not _HEADER_NAME.fullmatch(value) or value.lower() == "authorization":
        raise ValueError(
            f"{value!r} is not a usable tenant header name; use letters, digits and '-', e.g. "
            "X-Scope-OrgID (Mimir, Cortex) or THANOS-TENANT (Thanos receive)"
        )
    return value


def _tenant_id(value: str) -> str:
    if not value or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(
            f"invalid tenant {value!r}; use the tenant id without spaces, line breaks or "
            "control characters, e.g. team-a (Mimir federates several as team-a|team-b)"
        )
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
    BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v),
]


def default_store_url() -> str:
    """``sqlite:///<cwd>/.sloctl/sloctl.db`` (the store creates the folder when it opens)."""
    return f"sqlite:///{Path.cwd() / '.sloctl' / 'sloctl.db'}"


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrometheusSettings(_Frozen):
    """Where and how to query Prometheus (or Thanos, Mimir, VictoriaMetrics)."""

    url: HttpUrl = "http://127.0.0.1:9090"
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    bearer_token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    max_concurrency: Annotated[int, Field(ge=1)] = 8
    headers: dict[str, str] = {}
    # Multi-tenant backends: tenant sent as tenant_header on every request (Mimir, Cortex:
    # X-Scope-OrgID; Thanos receive: THANOS-TENANT). Thanos: partial_response=true|false sent
    # on every request (None: no parameter); an answer with warnings is never used.
    tenant: Annotated[str, AfterValidator(_tenant_id)] | None = None
    tenant_header: Annotated[str, AfterValidator(_header_name)] = "X-Scope-OrgID"
    partial_response: bool | None = None
    # Caps per answer: above one, the values that depend on the query are unknown (a problem
    # names the cap) and the download is abandoned, so a hostile or huge answer costs neither
    # the cycle's time nor its memory.
    max_series: Annotated[int, Field(ge=1)] = 20_000
    max_labels_per_series: Annotated[int, Field(ge=1)] = 128
    max_bytes: Annotated[int, Field(ge=1024)] = 16 * 1024 * 1024
    # How often the observed services are scraped: a gap longer than two intervals counts as
    # missing data in each window's coverage.
    scrape_interval_seconds: DurationSeconds = 60

    @property
    def coverage_lookback_seconds(self) -> int:
        """How far back a sample still counts as present: two scrape intervals."""
        return 2 * self.scrape_interval_seconds

    @model_validator(mode="after")
    def _one_auth(self) -> PrometheusSettings:
        if self.bearer_token is not None and (self.username or self.password):
            raise ValueError(
                "set either bearer_token (SLOCTL_PROMETHEUS_BEARER_TOKEN) or username/password "
                "(SLOCTL_PROMETHEUS_USERNAME/_PASSWORD), not both; remove one of them"
            )
        if (self.username is None) != (self.password is None):
            raise ValueError(
                "basic auth needs both username and password (SLOCTL_PROMETHEUS_USERNAME and "
                "SLOCTL_PROMETHEUS_PASSWORD); set the missing one"
            )
        if self.tenant is None and "tenant_header" in self.model_fields_set:
            raise ValueError(
                "tenant_header is set but tenant is not, so no tenant would be sent; set "
                "prometheus.tenant (SLOCTL_PROMETHEUS_TENANT) or remove prometheus.tenant_header"
            )
        clash = [k for k in self.headers if k.lower() == self.tenant_header.lower()]
        if self.tenant is not None and clash:
            raise ValueError(
                f"prometheus.tenant_header ({self.tenant_header}) is also set in "
                f"prometheus.headers ({clash[0]}); send the tenant once: remove {clash[0]} "
                "from prometheus.headers, or unset prometheus.tenant"
            )
        return self

    @property
    def basic_auth(self) -> tuple[str, str] | None:
        """``(username, password)`` for HTTP basic auth, if configured."""
        if self.username is None or self.password is None:
            return None
        return self.username, self.password.get_secret_value()

    @property
    def request_headers(self) -> dict[str, str]:
        """Extra headers, ``Authorization: Bearer ...`` when a bearer token is set, and the
        tenant header when a tenant is."""
        headers = dict(self.headers)
        if self.bearer_token is not None:
            headers["Authorization"] = f"Bearer {self.bearer_token.get_secret_value()}"
        if self.tenant is not None:
            headers[self.tenant_header] = self.tenant
        return headers

    @property
    def query_params(self) -> dict[str, str]:
        """Parameters sent with every request: ``partial_response`` when set (Thanos)."""
        if self.partial_response is None:
            return {}
        return {"partial_response": "true" if self.partial_response else "false"}


class SignalSettings(_Frozen):
    """How golden signals are queried; ``None`` fields fall back to the preset's."""

    preset: PresetName = "otel-http"
    service_label: LabelName | None = None
    service_from: Literal["series", "target_info"] | None = None
    saturation_query: str | None = None

    def groups(
        self, specs: Sequence[SLOSpec]
    ) -> tuple[SignalGroup, dict[SignalGroup, set[str]]]:
        """Which preset each service's golden signals come from: the preset of its first preset
        SLO, else this ``preset``. The default group, and every group with its services (the
        evaluation and the generated default alerts both follow it)."""
        default: SignalGroup = (self.preset, self.identity)
        groups: dict[SignalGroup, set[str]] = {default: set()}
        claimed: set[str] = set()
        for spec in specs:
            if spec.service in claimed or spec.indicator_kind == "logs":
                continue
            key = (spec.preset, spec.identity) if spec.preset else default
            claimed.add(spec.service)
            groups.setdefault(key, set()).add(spec.service)
        return default, groups

    @property
    def identity(self) -> ServiceIdentity:
        """Where the signal series name their service (the preset's unless overridden)."""
        preset = self.http_preset
        join = preset.service_from_target_info
        if self.service_from is not None:
            join = self.service_from == "target_info"
        return ServiceIdentity(self.effective_service_label, join)

    @property
    def http_preset(self) -> HttpPreset:
        return get_preset(self.preset)

    @property
    def effective_service_label(self) -> str:
        return self.service_label or self.http_preset.service_label

    @property
    def effective_saturation_query(self) -> str:
        return self.saturation_query or self.http_preset.saturation_query


class ErrorRatioAlert(_Frozen):
    """Fire when a service's error ratio over ``window_seconds`` stays above ``threshold``."""

    enabled: bool = True
    threshold: Annotated[float, AfterValidator(_error_ratio)] = 0.005
    window_seconds: DurationSeconds = 300
    for_seconds: DurationOrZero = 300


class LatencyAlert(_Frozen):
    """Fire when a service's p95 latency over ``window_seconds`` stays above ``threshold`` s."""

    enabled: bool = True
    threshold: Threshold = 0.3
    window_seconds: DurationSeconds = 300
    for_seconds: DurationOrZero = 300


class DefaultAlerts(_Frozen):
    error_ratio: ErrorRatioAlert = ErrorRatioAlert()
    latency_p95: LatencyAlert = LatencyAlert()


Share = Annotated[float, Field(ge=0, le=1)]


class DataQualitySettings(_Frozen):
    """How much data a window needs before an alert on it may fire.

    A burn-rate alert needs ``min_short_window_coverage`` of its short window (and
    ``min_long_window_coverage`` of its long one) to have data; a default alert needs
    ``min_short_window_coverage`` of its window. Below that it is held back, and says so.
    """

    min_short_window_coverage: Share = 0.9
    min_long_window_coverage: Share = 0.0


class ReceiverSettings(_Frozen):
    """The HTTP listener of ``sloctl serve``: Alertmanager webhooks, /metrics, deploy events.

    Webhook and event endpoints require ``token`` as a bearer token (Alertmanager's
    ``http_config.authorization.credentials``); without a token they are disabled.
    """

    enabled: bool = True
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 9464
    token: SecretStr | None = None
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1_048_576
    # Plausible timestamps in webhook and deployment bodies: earliest_timestamp .. now + this
    earliest_timestamp: date = date(2000, 1, 1)
    max_future_seconds: DurationOrZero = 86400
    # Connections (sloctl/runtime/guard.py): closed when idle, or when a request's head or
    # body does not arrive in time; above max_connections the oldest idle or slow one is
    # closed, and a new one is answered 503 when none is. Capped by the open-file limit.
    max_connections: Annotated[int, Field(ge=8)] = 2048
    idle_timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    header_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    body_timeout_seconds: Annotated[float, Field(gt=0)] = 20.0
    max_header_bytes: Annotated[int, Field(ge=1024)] = 16384


def _names(value: object) -> object:
    """``"a, b"`` (an environment variable) -> ``["a", "b"]``; lists stay."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class DashboardSettings(_Frozen):
    """Who may see the Streamlit scorecard (``dashboard/access.py``): loopback visitors only,
    or, behind an authenticating proxy, the user its ``auth_header`` names (one of
    ``allowed_users`` when that is not empty)."""

    auth_header: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9-]+$")] | None = None
    allowed_users: Annotated[tuple[str, ...], BeforeValidator(_names)] = ()


class AlertmanagerSettings(_Frozen):
    """Where ``sloctl serve`` sends its own alerts (API v2) and ``sloctl silence`` silences
    them; no ``url`` means not sent. ``runbook_url``: the runbooks (docs/runbooks.md), linked
    from every alert, generated rule or notifier's, as ``<runbook_url>#<alertname, lower>``."""

    url: Annotated[str, AfterValidator(_http_url)] | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 5.0
    runbook_url: HttpUrl = "https://github.com/sloctl/sloctl/blob/main/docs/runbooks.md"


class JaegerSettings(_Frozen):
    """The Jaeger query service (api_v3 and v1 HTTP, port 16686); ``ui_url`` defaults to ``url``."""

    # After each cycle: exemplar traces, and HTTP vs span metrics (trace_step). Span metrics
    # are counted by the collector before any sampling for Jaeger: no sampling ratio applies.
    enabled: bool = False
    url: HttpUrl = "http://127.0.0.1:16686"
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    ui_url: HttpUrl | None = None
    max_bytes: Annotated[int, Field(ge=1024)] = 32 * 1024 * 1024  # per answer

    @property
    def effective_ui_url(self) -> str:
        """Base URL of the Jaeger UI for trace links (``<ui>/trace/<id>``)."""
        return self.ui_url or self.url


class TelemetrySettings(_Frozen):
    """sloctl's own traces, sent over OTLP/HTTP; no ``otlp_endpoint`` means off.

    ``otlp_endpoint`` is the receiver's base URL (``http://127.0.0.1:4318``); ``/v1/traces`` is
    appended unless already there. OTEL_EXPORTER_OTLP_ENDPOINT is deliberately not read: it is
    often set for the observed services and would switch sloctl's export on by accident.
    """

    otlp_endpoint: Annotated[str, AfterValidator(_http_url)] | None = None
    timeout_seconds: Annotated[float, Field(gt=0, le=10)] = 1.0
    service_name: Annotated[str, Field(min_length=1)] = "sloctl"


def _tenant(value: str) -> str:
    if not value or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(
            f"invalid Loki tenant {value!r}; use the X-Scope-OrgID value, e.g. team-a "
            "(several tenants joined by '|'), without spaces"
        )
    return value


class LokiSettings(_Frozen):
    """Where and how to query Loki; ``tenant`` is sent as ``X-Scope-OrgID`` when set."""

    url: HttpUrl = "http://127.0.0.1:3100"
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    tenant: Annotated[str, AfterValidator(_tenant)] | None = None
    service_label: LabelName = "service_name"
    max_series: Annotated[int, Field(ge=1)] = 20_000  # streams or series per answer
    max_bytes: Annotated[int, Field(ge=1024)] = 32 * 1024 * 1024


class IncidentSettings(_Frozen):
    """How Alertmanager notifications become incidents."""

    merge_gap_seconds: DurationOrZero = 300
    severities: tuple[str, ...] = ("critical", "page", "error", "warning", "ticket")


def _loki_selector(value: str) -> str:
    parse_stream_selector(value)  # raises ValueError saying what is wrong
    return value.strip()


class DeploySourceSettings(_Frozen):
    """Deployment events read from Loki and Prometheus (``sloctl serve``, ``deploy import``).

    ``loki_selector``: one JSON log line per deployment, native field names (None: off).
    ``prometheus_build_info``: a metric name or regex (``.*_build_info``, ``target_info``) whose
    ``version_label`` changes per service are deployments (None: off). Missing labels: the
    environment is ``environment``, the commit SHA and time unknown (no lead time).
    """

    loki_selector: Annotated[str, AfterValidator(_loki_selector)] | None = None
    prometheus_build_info: Annotated[str, Field(min_length=1)] | None = None
    service_label: LabelName = "job"
    version_label: LabelName = "version"
    commit_label: LabelName | None = "revision"
    commit_time_label: LabelName | None = None
    environment_label: LabelName | None = None
    environment: Annotated[str, Field(min_length=1)] = "production"
    step_seconds: DurationSeconds = 60
    every_seconds: DurationSeconds = 300


class DoraSettings(_Frozen):
    """DORA metrics: production environments, qualifying incidents, attribution, goals, teams.

    ``teams`` maps a team to its services; goals are the house targets shown beside the levels.
    """

    production_environments: tuple[str, ...] = ("production", "prod")
    severities: tuple[str, ...] = ("critical", "page")
    attribution_window_seconds: DurationSeconds = 86400
    duplicate_window_seconds: DurationOrZero = 600
    settle_seconds: DurationOrZero = 900
    rework_patterns: tuple[str, ...] = ("hotfix", "revert")
    report_year: Literal[2021, 2023, 2024] = 2023
    teams: dict[str, tuple[str, ...]] = {}
    goal_deploys_per_day_per_service: Annotated[float, Field(gt=0)] = 3.0
    goal_lead_time_seconds: DurationSeconds = 3600
    goal_change_failure_rate: Annotated[float, Field(gt=0, lt=1)] = 0.03
    goal_restore_seconds: DurationSeconds = 900
    sources: DeploySourceSettings = DeploySourceSettings()

    def config(self) -> DoraConfig:
        """The pure computation's settings."""
        from datetime import timedelta

        return DoraConfig(
            production_environments=frozenset(self.production_environments),
            severities=frozenset(self.severities),
            attribution_window=timedelta(seconds=self.attribution_window_seconds),
            duplicate_window=timedelta(seconds=self.duplicate_window_seconds),
            settle_period=timedelta(seconds=self.settle_seconds),
            rework_patterns=self.rework_patterns,
            report_year=self.report_year,
            goals=HouseGoals(
                deploys_per_day_per_service=self.goal_deploys_per_day_per_service,
                lead_time_seconds=self.goal_lead_time_seconds,
                change_failure_rate=self.goal_change_failure_rate,
                restore_seconds=self.goal_restore_seconds,
            ),
        )


class RetentionSettings(_Frozen):
    """How long the store keeps each history tier, as ages in days: every evaluation for
    ``raw_days``, then one roll-up per hour until ``hourly_days``, then one per day until
    ``daily_days`` (``sloctl db prune``; ``sloctl serve`` prunes daily). Incidents, deployments,
    alert transitions, received alerts and scorecards are never pruned."""

    raw_days: Annotated[int, Field(ge=1)] = 8
    hourly_days: Annotated[int, Field(ge=1)] = 90
    daily_days: Annotated[int, Field(ge=1)] = 400

    @model_validator(mode="after")
    def _ordered(self) -> RetentionSettings:
        if not self.raw_days <= self.hourly_days <= self.daily_days:
            raise ValueError(
                f"raw_days ({self.raw_days}) <= hourly_days ({self.hourly_days}) <= daily_days "
                f"({self.daily_days}) is required: a tier is kept at least as long as the finer "
                "one it is rolled up from"
            )
        return self


class Settings(_Frozen):
    """Everything configurable in sloctl. Build it with ``load_settings``."""

    prometheus: PrometheusSettings = PrometheusSettings()
    store_url: Annotated[str, AfterValidator(_store_url)] = Field(default_factory=default_store_url)
    interval_seconds: Annotated[DurationSeconds, AfterValidator(_at_least_5)] = 60
    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    specs: tuple[Path, ...] = ()
    signals: SignalSettings = SignalSettings()
    default_alerts: DefaultAlerts = DefaultAlerts()
    data_quality: DataQualitySettings = DataQualitySettings()
    dashboard_url: HttpUrl = "http://127.0.0.1:8501"
    dashboard: DashboardSettings = DashboardSettings()
    log_level: LogLevel = "INFO"
    log_format: Literal["text", "json"] = "text"  # sloctl serve: json is one object per line
    receiver: ReceiverSettings = ReceiverSettings()
    alertmanager: AlertmanagerSettings = AlertmanagerSettings()
    jaeger: JaegerSettings = JaegerSettings()
    incidents: IncidentSettings = IncidentSettings()
    loki: LokiSettings = LokiSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    dora: DoraSettings = DoraSettings()
    retention: RetentionSettings = RetentionSettings()  # history tiers of the store
    report: ReportSettings = ReportSettings()  # the weekly scorecard email (sloctl.report)

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_settings(
    config_file: Path | None = None, env: Mapping[str, str] | None = None
) -> Settings:
    """Settings from defaults, the settings file and ``env`` (default ``os.environ``).

    Raises ``SettingsError`` listing every bad value with its file line or variable name.
    """
    env = os.environ if env is None else env
    env = {key: value for key, value in env.items() if key.startswith(ENV_PREFIX) and value}
    _reject_unknown_variables(env)
    path, origin = _config_path(config_file, env)
    data, node = _read_file(path, origin) if path is not None else ({}, None)
    merged = copy.deepcopy(data)
    overridden: dict[tuple[str, ...], str] = {}
    for name, field_path in ENV_FIELDS.items():
        if name in env:
            value: object = env[name]
            if name == "SLOCTL_SPECS":
                value = [part for part in env[name].split(os.pathsep) if part]
            if _set_path(merged, field_path, value):
                overridden[field_path] = name
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        lines = [_describe(error, overridden, path, node) for error in exc.errors()]
        raise SettingsError("invalid settings:\n  " + "\n  ".join(lines)) from None
    register_secrets(settings)
    return settings


_SECRET_HEADER = re.compile(r"(?i)auth|token|key|secret|cookie|password")


def register_secrets(value: object) -> None:
    """Register every credential of the settings with ``sloctl.redact``: secret values, URL
    passwords and the values of credential headers (``prometheus.headers``), so no output,
    log, stored row or span shows them."""
    if isinstance(value, SecretStr):
        register_secret(value.get_secret_value())
    elif isinstance(value, str):
        register_url(value)
    elif isinstance(value, BaseModel):
        for field in type(value).model_fields:
            register_secrets(getattr(value, field))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, str) and _SECRET_HEADER.search(str(key)):
                register_secret(item.partition(" ")[2] or item)  # "Bearer <token>": the token
            register_secrets(item)
    elif isinstance(value, tuple | list):
        for item in value:
            register_secrets(item)


def _reject_unknown_variables(env: Mapping[str, str]) -> None:
    known = [*ENV_FIELDS, CONFIG_ENV]
    unknown = sorted(set(env) - set(known))
    if not unknown:
        return
    lines = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        lines.append(f"unknown environment variable {name}; {hint}unset it")
    lines.append(f"known variables: {', '.join(known)}")
    raise SettingsError("invalid settings:\n  " + "\n  ".join(lines))


def _config_path(config_file: Path | None, env: Mapping[str, str]) -> tuple[Path | None, str]:
    if config_file is not None:
        return config_file, "the --config option"
    if CONFIG_ENV in env:
        return Path(env[CONFIG_ENV]), CONFIG_ENV
    default = Path(DEFAULT_CONFIG_FILE)
    return (default, "the working directory") if default.is_file() else (None, "")


def _read_file(path: Path, origin: str) -> tuple[dict[str, Any], Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(
            f"cannot read settings file {path} (from {origin}): {exc.strerror or exc}; "
            "check the path"
        ) from None
    try:
        documents = load_documents(text)
    except YamlSyntaxError as exc:
        raise SettingsError(f"{path}:{exc.line or '?'}: {exc}") from None
    if not documents:
        return {}, None
    if len(documents) > 1 or not isinstance(documents[0].data, dict):
        raise SettingsError(
            f"{path}: a settings file holds one YAML mapping, e.g. 'prometheus: {{url: ...}}'"
        )
    data: dict[str, Any] = documents[0].data
    specs = data.get("specs")
    if isinstance(specs, list) and all(isinstance(s, str) for s in specs):
        data["specs"] = [str(path.parent / Path(s).expanduser()) for s in specs]
    return data, documents[0].node


def _set_path(data: dict[str, Any], field_path: tuple[str, ...], value: object) -> bool:
    """Set ``data[a][b]... = value``; False if a parent in the file is not a mapping."""
    target = data
    for key in field_path[:-1]:
        child = target.setdefault(key, {})
        if not isinstance(child, dict):
            return False
        target = child
    target[field_path[-1]] = value
    return True


def _describe(
    error: Any, overridden: dict[tuple[str, ...], str], path: Path | None, node: Any
) -> str:
    loc = tuple(error["loc"])
    message = describe_error(error, Settings)
    field = loc_path(loc) or "<settings>"
    for field_path, variable in overridden.items():
        if loc[: len(field_path)] == field_path:
            return f"{variable} ({field}): {message}; fix or unset the variable"
    if path is not None and node is not None:
        return f"{path}:{line_of(node, loc)}: {field}: {message}"
    return f"{field}: {message}"
