"""Where a series names its service, decided from plain label sets (pure: no I/O).

Three places, tried in this order for each series:

- a label on the series itself (``service_name``: the collector with
  ``resource_to_telemetry_conversion``, the spanmetrics connector);
- ``target_info{service_name=...}`` of the same (job, instance): the OpenTelemetry SDK's
  Prometheus exporter scraped directly puts ``service.name`` only there;
- ``job``: classic client libraries, and Prometheus' OTLP receiver, which writes
  ``job="<service.namespace>/<service.name>"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sloctl.spec.models import TARGET_INFO_JOIN

JOB = "job"
INSTANCE = "instance"
LE = "le"


class IdentityKind(StrEnum):
    """Where a service's name was found."""

    LABEL = "label"  # a label of the series
    TARGET_INFO = "target_info"  # target_info of the series' (job, instance)
    JOB = "job"  # the series' job label


@dataclass(frozen=True, order=True)
class Target:
    """One scrape target (or OTLP resource): the (job, instance) pair ``target_info`` joins on."""

    job: str
    instance: str

    def __str__(self) -> str:
        return f'job="{self.job}", instance="{self.instance}"'


@dataclass
class ServiceSeries:
    """What one service's series look like: where its name lives, its targets, their ``le``."""

    service: str
    kind: IdentityKind
    label: str  # the label holding the name (``job`` for IdentityKind.JOB)
    le_by_target: dict[Target, set[str]] = field(default_factory=dict)

    @property
    def targets(self) -> list[Target]:
        return sorted(self.le_by_target)

    def add(self, target: Target, le: str | None) -> None:
        spellings = self.le_by_target.setdefault(target, set())
        if le:
            spellings.add(le)


@dataclass(frozen=True)
class Resolved:
    """Services found in a set of series, and the targets whose series name no service."""

    services: dict[str, ServiceSeries]
    unnamed: tuple[Target, ...]


def target_services(info_rows: Iterable[Mapping[str, str]], label: str) -> dict[Target, str]:
    """``target_info`` rows -> the service each (job, instance) names (rows without it skipped)."""
    job, instance = TARGET_INFO_JOIN
    out: dict[Target, str] = {}
    for row in sorted(info_rows, key=lambda r: sorted(r.items())):
        name = row.get(label, "")
        if name:
            out.setdefault(Target(row.get(job, ""), row.get(instance, "")), name)
    return out


def resolve(
    rows: Iterable[Mapping[str, str]],
    info: Mapping[Target, str],
    label: str,
    *,
    join: bool = True,
    job_fallback: bool = True,
) -> Resolved:
    """Group series label sets (``label``, job, instance and maybe le) by service.

    ``join``: series without ``label`` take the service of their target in ``info``;
    ``job_fallback``: series named neither way are named by their ``job``. A service seen both
    on the label and through ``target_info`` is a TARGET_INFO service (that query covers both).
    """
    services: dict[tuple[str, bool], ServiceSeries] = {}
    unnamed: set[Target] = set()
    for row in rows:
        target = Target(row.get(JOB, ""), row.get(INSTANCE, ""))
        name, kind = _name_of(row, target, info, label, join=join, job_fallback=job_fallback)
        if name is None:
            unnamed.add(target)
            continue
        key = (name, kind is IdentityKind.JOB and label != JOB)
        found = services.get(key)
        if found is None:
            found = services[key] = ServiceSeries(name, kind, JOB if key[1] else label)
        elif kind is IdentityKind.TARGET_INFO:
            found.kind = IdentityKind.TARGET_INFO
        found.add(target, row.get(LE))
    by_name: dict[str, ServiceSeries] = {}
    for (name, _), series in sorted(services.items()):
        by_name.setdefault(name, series)  # a name on the label wins over the same job name
    return Resolved(by_name, tuple(sorted(unnamed)))


def _name_of(
    row: Mapping[str, str],
    target: Target,
    info: Mapping[Target, str],
    label: str,
    *,
    join: bool,
    job_fallback: bool,
) -> tuple[str | None, IdentityKind]:
    direct = row.get(label, "")
    if direct:
        return direct, IdentityKind.LABEL
    if join and target in info:
        return info[target], IdentityKind.TARGET_INFO
    if job_fallback and target.job:
        return target.job, IdentityKind.JOB
    return None, IdentityKind.LABEL
