"""Datasource references by fixed uid (grafana/provisioning/datasources/sloctl.yaml)."""

from __future__ import annotations

from typing import Any

PROMETHEUS_UID = "sloctl-prometheus"
ALERTMANAGER_UID = "sloctl-alertmanager"
JAEGER_UID = "sloctl-jaeger"
LOKI_UID = "sloctl-loki"

PROMETHEUS: dict[str, Any] = {"type": "prometheus", "uid": PROMETHEUS_UID}
ALERTMANAGER: dict[str, Any] = {"type": "alertmanager", "uid": ALERTMANAGER_UID}
JAEGER: dict[str, Any] = {"type": "jaeger", "uid": JAEGER_UID}
LOKI: dict[str, Any] = {"type": "loki", "uid": LOKI_UID}
