"""Multi-tenant and scale-out Prometheus backends (issue 15): the tenant header (Mimir, Cortex,
Thanos receive) and Thanos' partial_response, as settings and as what goes on the wire."""

from __future__ import annotations

from pathlib import Path

import pytest

from sloctl.errors import SettingsError
from sloctl.settings import load_settings


def refused(env: dict[str, str], tmp_path: Path | None = None, yaml: str | None = None) -> str:
    """The settings error for ``env`` (and a settings file holding ``yaml``)."""
    path = None
    if yaml is not None:
        assert tmp_path is not None
        path = tmp_path / "sloctl.yaml"
        path.write_text(yaml)
    with pytest.raises(SettingsError) as info:
        load_settings(path, env=env)
    return str(info.value)


# --- settings ---


def test_tenant_defaults_to_the_mimir_header_and_nothing_is_sent_without_one() -> None:
    p = load_settings(env={}).prometheus
    assert (p.tenant, p.tenant_header, p.partial_response) == (None, "X-Scope-OrgID", None)
    assert p.request_headers == {}
    assert p.query_params == {}


def test_tenant_and_partial_response_from_the_environment() -> None:
    p = load_settings(env={
        "SLOCTL_PROMETHEUS_TENANT": "team-a|team-b",
        "SLOCTL_PROMETHEUS_TENANT_HEADER": "THANOS-TENANT",
        "SLOCTL_PROMETHEUS_PARTIAL_RESPONSE": "false",
        "SLOCTL_PROMETHEUS_BEARER_TOKEN": "tok",
    }).prometheus
    assert p.request_headers == {"Authorization": "Bearer tok", "THANOS-TENANT": "team-a|team-b"}
    assert p.query_params == {"partial_response": "false"}
    assert load_settings(env={"SLOCTL_PROMETHEUS_PARTIAL_RESPONSE": "true"}).prometheus \
        .query_params == {"partial_response": "true"}


@pytest.mark.parametrize("tenant", ["team-a\r\nX-Evil: 1", "team a", "a\x00b"])
def test_a_tenant_with_a_line_break_space_or_control_character_is_refused(tenant: str) -> None:
    message = refused({"SLOCTL_PROMETHEUS_TENANT": tenant})
    assert message.startswith(
        "invalid settings:\n  SLOCTL_PROMETHEUS_TENANT (prometheus.tenant): invalid tenant "
        f"{tenant!r}; use the tenant id without spaces"
    )
    assert message.endswith("; fix or unset the variable")


@pytest.mark.parametrize("header", ["X Scope", "X-Scope-OrgID\r\n", "Authorization", "ä"])
def test_a_tenant_header_that_is_not_a_header_name_is_refused(header: str) -> None:
    message = refused({"SLOCTL_PROMETHEUS_TENANT": "team-a",
                       "SLOCTL_PROMETHEUS_TENANT_HEADER": header})
    assert message.startswith(
        "invalid settings:\n  SLOCTL_PROMETHEUS_TENANT_HEADER (prometheus.tenant_header): "
        f"{header!r} is not a usable tenant header name"
    )


def test_an_empty_tenant_header_in_the_file_is_refused(tmp_path: Path) -> None:
    message = refused({}, tmp_path, "prometheus: {tenant: team-a, tenant_header: ''}\n")
    assert f"{tmp_path / 'sloctl.yaml'}:1: prometheus.tenant_header: '' is not a usable" in message


def test_the_tenant_header_also_in_headers_is_a_conflict_naming_both(tmp_path: Path) -> None:
    message = refused(
        {}, tmp_path, "prometheus:\n  tenant: team-a\n  headers: {x-scope-orgid: team-b}\n"
    )
    assert message == (
        f"invalid settings:\n  {tmp_path / 'sloctl.yaml'}:1: prometheus: prometheus.tenant_header "
        "(X-Scope-OrgID) is also set in prometheus.headers (x-scope-orgid); send the tenant "
        "once: remove x-scope-orgid from prometheus.headers, or unset prometheus.tenant"
    )


def test_a_tenant_header_without_a_tenant_is_refused() -> None:
    message = refused({"SLOCTL_PROMETHEUS_TENANT_HEADER": "THANOS-TENANT"})
    assert "tenant_header is set but tenant is not" in message
    assert "set prometheus.tenant (SLOCTL_PROMETHEUS_TENANT)" in message


def test_partial_response_must_be_a_boolean() -> None:
    message = refused({"SLOCTL_PROMETHEUS_PARTIAL_RESPONSE": "maybe"})
    assert message.startswith(
        "invalid settings:\n  SLOCTL_PROMETHEUS_PARTIAL_RESPONSE (prometheus.partial_response):"
    )
