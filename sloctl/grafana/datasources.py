"""Datasources as dashboard variables: every panel names ``${datasource}`` (or ``${loki}``,
``${jaeger}``), so the dashboards work with any Prometheus, Loki or Jaeger of the Grafana they are
imported into. Provisioning (grafana/provisioning/datasources/sloctl.yaml) forces no default."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import DatasourceVariable
from grafana_foundation_sdk.models.dashboard import DataSourceRef

PROMETHEUS = DataSourceRef(type_val="prometheus", uid="${datasource}")
LOKI = DataSourceRef(type_val="loki", uid="${loki}")
JAEGER = DataSourceRef(type_val="jaeger", uid="${jaeger}")


def datasource_var(name: str, plugin: str, label: str) -> DatasourceVariable:
    """A datasource picker listing the datasources of one plugin type (``prometheus``, ...)."""
    return DatasourceVariable(name).label(label).type(plugin)


def prometheus_var() -> DatasourceVariable:
    return datasource_var("datasource", "prometheus", "Prometheus")


def loki_var() -> DatasourceVariable:
    return datasource_var("loki", "loki", "Loki")


def jaeger_var() -> DatasourceVariable:
    return datasource_var("jaeger", "jaeger", "Jaeger")
