"""Settings: defaults, file and environment precedence, and errors that name their source."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from sloctl.errors import SettingsError
from sloctl.settings import Settings, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture(autouse=True)
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each test in an empty folder so a stray ./sloctl.yaml cannot leak in."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def test_defaults(empty_cwd: Path) -> None:
    settings = load_settings(env={})
    assert settings.prometheus.url == "http://127.0.0.1:9090"
    assert settings.prometheus.timeout_seconds == 10.0
    assert settings.prometheus.max_concurrency == 8
    assert settings.prometheus.headers == {}
    assert settings.prometheus.basic_auth is None
    assert settings.prometheus.request_headers == {}
    assert settings.store_url == f"sqlite:///{empty_cwd}/.sloctl/sloctl.db"
    assert not (empty_cwd / ".sloctl").exists()  # the store creates it, not the settings
    assert (settings.interval_seconds, settings.timezone, settings.specs) == (60, "UTC", ())
    assert settings.signals.preset == "otel-http"
    assert settings.signals.effective_service_label == "service_name"
    assert settings.signals.effective_saturation_query == (
        "sum by (service_name) (rate(process_cpu_seconds_total[{{window}}]))"
    )
    error_ratio = settings.default_alerts.error_ratio
    latency = settings.default_alerts.latency_p95
    assert (error_ratio.threshold, error_ratio.window_seconds, error_ratio.for_seconds) == (
        0.005,
        300,
        300,
    )
    assert (latency.threshold, latency.window_seconds, latency.for_seconds) == (0.3, 300, 300)
    assert error_ratio.enabled and latency.enabled
    assert (settings.dashboard_url, settings.log_level) == ("http://127.0.0.1:8501", "INFO")


def test_settings_are_frozen() -> None:
    settings = load_settings(env={})
    with pytest.raises(ValueError, match="frozen"):
        settings.timezone = "Europe/Paris"


FULL_FILE = """\
    prometheus:
      url: http://127.0.0.1:9091/prom/
      timeout_seconds: 2.5
      username: alice
      password: s3cret
      max_concurrency: 3
      headers: {X-Scope-OrgID: team-a}
    store_url: postgresql+psycopg://sloctl@127.0.0.1/sloctl
    interval_seconds: 2m
    timezone: Europe/Paris
    specs: [rules/slos, /abs/extra.yaml]
    signals:
      preset: prometheus-http
      service_label: app
      saturation_query: sum by (app) (container_memory_working_set_bytes)
    default_alerts:
      error_ratio: {threshold: 0.01, window_seconds: 10m, for_seconds: 0}
      latency_p95: {threshold: 500ms, window_seconds: 600s, for_seconds: 1m, enabled: false}
    dashboard_url: http://127.0.0.1:8600
    log_level: debug
    """


def test_file_values(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    config = write(tmp_path / "conf" / "sloctl.yaml", FULL_FILE)
    settings = load_settings(config, env={})
    prom = settings.prometheus
    assert (prom.url, prom.timeout_seconds, prom.max_concurrency) == (
        "http://127.0.0.1:9091/prom",
        2.5,
        3,
    )
    assert prom.basic_auth == ("alice", "s3cret")
    assert "s3cret" not in repr(settings)
    assert prom.request_headers == {"X-Scope-OrgID": "team-a"}
    assert settings.store_url == "postgresql+psycopg://sloctl@127.0.0.1/sloctl"
    assert (settings.interval_seconds, settings.timezone) == (120, "Europe/Paris")
    assert settings.tzinfo.key == "Europe/Paris"
    assert settings.specs == (tmp_path / "conf" / "rules" / "slos", Path("/abs/extra.yaml"))
    assert settings.signals.effective_service_label == "app"
    assert settings.signals.http_preset.counter == "http_requests_total"
    assert settings.signals.effective_saturation_query == (
        "sum by (app) (container_memory_working_set_bytes)"
    )
    error_ratio = settings.default_alerts.error_ratio
    latency = settings.default_alerts.latency_p95
    assert (error_ratio.threshold, error_ratio.window_seconds, error_ratio.for_seconds) == (
        0.01,
        600,
        0,
    )
    assert (latency.threshold, latency.window_seconds, latency.for_seconds) == (0.5, 600, 60)
    assert latency.enabled is False
    assert (settings.dashboard_url, settings.log_level) == ("http://127.0.0.1:8600", "DEBUG")


def test_file_lookup_order(tmp_path: Path, empty_cwd: Path) -> None:
    write(empty_cwd / "sloctl.yaml", "timezone: Asia/Tokyo\n")
    from_env = write(tmp_path / "env.yaml", "timezone: America/New_York\n")
    explicit = write(tmp_path / "explicit.yaml", "timezone: Europe/Berlin\n")
    assert load_settings(env={}).timezone == "Asia/Tokyo"
    assert load_settings(env={"SLOCTL_CONFIG": str(from_env)}).timezone == "America/New_York"
    assert load_settings(explicit, env={"SLOCTL_CONFIG": str(from_env)}).timezone == (
        "Europe/Berlin"
    )


def test_env_overrides_file(tmp_path: Path) -> None:
    config = write(
        tmp_path / "s.yaml",
        "prometheus: {url: 'http://127.0.0.1:1111', max_concurrency: 2}\ninterval_seconds: 30\n",
    )
    settings = load_settings(config, env={"SLOCTL_PROMETHEUS_URL": "http://127.0.0.1:2222"})
    assert settings.prometheus.url == "http://127.0.0.1:2222"
    assert settings.prometheus.max_concurrency == 2  # untouched file value survives
    assert settings.interval_seconds == 30


@pytest.mark.parametrize(
    ("variable", "value", "attribute", "expected"),
    [
        pytest.param(
            "SLOCTL_PROMETHEUS_URL",
            "https://127.0.0.1:9443",
            "prometheus.url",
            "https://127.0.0.1:9443",
            id="prometheus-url",
        ),
        pytest.param(
            "SLOCTL_PROMETHEUS_TIMEOUT",
            "3.5",
            "prometheus.timeout_seconds",
            3.5,
            id="prometheus-timeout",
        ),
        pytest.param(
            "SLOCTL_STORE_URL",
            "sqlite:////tmp/x.db",
            "store_url",
            "sqlite:////tmp/x.db",
            id="store-url",
        ),
        pytest.param("SLOCTL_INTERVAL", "90", "interval_seconds", 90, id="interval-seconds"),
        pytest.param("SLOCTL_INTERVAL", "5m", "interval_seconds", 300, id="interval-duration"),
        pytest.param("SLOCTL_TIMEZONE", "Europe/Paris", "timezone", "Europe/Paris", id="timezone"),
        pytest.param(
            "SLOCTL_SPECS",
            os.pathsep.join(["a", "b/c.yaml"]),
            "specs",
            (Path("a"), Path("b/c.yaml")),
            id="specs",
        ),
        pytest.param(
            "SLOCTL_DASHBOARD_URL",
            "http://127.0.0.1:9000",
            "dashboard_url",
            "http://127.0.0.1:9000",
            id="dashboard-url",
        ),
        pytest.param("SLOCTL_LOG_LEVEL", "warning", "log_level", "WARNING", id="log-level"),
    ],
)
def test_each_env_var(variable: str, value: str, attribute: str, expected: object) -> None:
    settings: object = load_settings(env={variable: value})
    for name in attribute.split("."):
        settings = getattr(settings, name)
    assert settings == expected


def test_bearer_token_from_env() -> None:
    settings = load_settings(env={"SLOCTL_PROMETHEUS_BEARER_TOKEN": "xyzzy-42"})
    assert settings.prometheus.request_headers == {"Authorization": "Bearer xyzzy-42"}
    assert settings.prometheus.basic_auth is None
    assert "xyzzy-42" not in repr(settings)


def test_basic_auth_from_env() -> None:
    env = {"SLOCTL_PROMETHEUS_USERNAME": "bob", "SLOCTL_PROMETHEUS_PASSWORD": "pw"}
    assert load_settings(env=env).prometheus.basic_auth == ("bob", "pw")


def test_empty_env_values_count_as_unset() -> None:
    assert load_settings(env={"SLOCTL_TIMEZONE": "", "SLOCTL_SPECS": ""}).timezone == "UTC"


def test_bearer_and_basic_auth_conflict(tmp_path: Path) -> None:
    config = write(tmp_path / "s.yaml", "prometheus:\n  username: u\n  password: p\n")
    with pytest.raises(SettingsError) as excinfo:
        load_settings(config, env={"SLOCTL_PROMETHEUS_BEARER_TOKEN": "t"})
    assert str(excinfo.value) == (
        "invalid settings:\n"
        f"  {config}:1: prometheus: set either bearer_token (SLOCTL_PROMETHEUS_BEARER_TOKEN) or "
        "username/password (SLOCTL_PROMETHEUS_USERNAME/_PASSWORD), not both; remove one of them"
    )


def test_username_without_password() -> None:
    with pytest.raises(SettingsError, match="basic auth needs both username and password"):
        load_settings(env={"SLOCTL_PROMETHEUS_USERNAME": "u"})


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        pytest.param(
            "SLOCTL_PROMETHEUS_URL",
            "127.0.0.1:9090",
            "SLOCTL_PROMETHEUS_URL (prometheus.url): must be an http(s) URL",
            id="url-without-scheme",
        ),
        pytest.param(
            "SLOCTL_PROMETHEUS_TIMEOUT",
            "ten",
            "SLOCTL_PROMETHEUS_TIMEOUT (prometheus.timeout_seconds): must be a number; got 'ten'",
            id="timeout-not-a-number",
        ),
        pytest.param(
            "SLOCTL_PROMETHEUS_TIMEOUT",
            "0",
            "SLOCTL_PROMETHEUS_TIMEOUT (prometheus.timeout_seconds): input should be "
            "greater than 0",
            id="timeout-zero",
        ),
        pytest.param(
            "SLOCTL_INTERVAL",
            "2",
            "SLOCTL_INTERVAL (interval_seconds): interval must be at least 5 seconds; got 2",
            id="interval-too-short",
        ),
        pytest.param(
            "SLOCTL_INTERVAL",
            "often",
            "SLOCTL_INTERVAL (interval_seconds): invalid duration 'often'",
            id="interval-garbage",
        ),
        pytest.param(
            "SLOCTL_TIMEZONE",
            "Mars/Olympus",
            "SLOCTL_TIMEZONE (timezone): unknown time zone 'Mars/Olympus'",
            id="timezone",
        ),
        pytest.param(
            "SLOCTL_STORE_URL",
            "not a url",
            "SLOCTL_STORE_URL (store_url): invalid store URL 'not a url'",
            id="store-url",
        ),
        pytest.param(
            "SLOCTL_LOG_LEVEL",
            "loud",
            "SLOCTL_LOG_LEVEL (log_level): must be 'DEBUG'",
            id="log-level",
        ),
    ],
)
def test_bad_env_values_name_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as excinfo:
        load_settings(env={variable: value})
    assert message in str(excinfo.value)
    assert str(excinfo.value).endswith("; fix or unset the variable")


def test_unknown_env_variable_suggests_the_right_one() -> None:
    with pytest.raises(SettingsError) as excinfo:
        load_settings(env={"SLOCTL_PROMETEUS_URL": "http://127.0.0.1:1"})
    assert (
        "unknown environment variable SLOCTL_PROMETEUS_URL; did you mean SLOCTL_PROMETHEUS_URL?"
        in str(excinfo.value)
    )


def test_file_errors_name_file_line_and_field(tmp_path: Path) -> None:
    config = write(
        tmp_path / "s.yaml",
        """\
        prometheus:
          url: http://127.0.0.1:9090
          timeout: 5
        signals:
          preset: otel
        default_alerts:
          error_ratio: {threshold: 5}
        """,
    )
    with pytest.raises(SettingsError) as excinfo:
        load_settings(config, env={})
    assert str(excinfo.value).splitlines() == [
        "invalid settings:",
        f"  {config}:3: prometheus.timeout: unknown field 'timeout' (did you mean "
        "'timeout_seconds'?); valid fields here: url, timeout_seconds, bearer_token, username, "
        "password, max_concurrency, headers, tenant, tenant_header, partial_response, max_series, "
        "max_labels_per_series, max_bytes, "
        "scrape_interval_seconds",
        f"  {config}:5: signals.preset: unknown preset 'otel'; valid presets: otel-http, "
        "otel-http-legacy, prometheus-http, spanmetrics, spanmetrics-ms, spanmetrics-bare, "
        "spanmetrics-bare-ms",
        f"  {config}:7: default_alerts.error_ratio.threshold: error ratio threshold must be "
        "between 0 and 1, e.g. 0.005; got 5.0",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("prometheus: [\n", "s.yaml:2: YAML syntax error", id="yaml-syntax"),
        pytest.param("- a\n- b\n", "a settings file holds one YAML mapping", id="not-a-mapping"),
    ],
)
def test_unparsable_file(tmp_path: Path, text: str, message: str) -> None:
    config = write(tmp_path / "s.yaml", text)
    with pytest.raises(SettingsError) as excinfo:
        load_settings(config, env={})
    assert message in str(excinfo.value)


def test_missing_config_file_names_its_origin(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as excinfo:
        load_settings(env={"SLOCTL_CONFIG": str(tmp_path / "nope.yaml")})
    assert str(excinfo.value) == (
        f"cannot read settings file {tmp_path / 'nope.yaml'} (from SLOCTL_CONFIG): "
        "No such file or directory; check the path"
    )


def test_empty_file_gives_defaults(tmp_path: Path) -> None:
    config = write(tmp_path / "s.yaml", "# nothing yet\n")
    assert load_settings(config, env={}) == Settings()
