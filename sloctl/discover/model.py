"""What ``sloctl discover`` found: per service and convention, plain values (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sloctl.discover.bounds import BoundCheck, format_seconds
from sloctl.discover.conventions import Convention, StatusLabel
from sloctl.discover.identity import IdentityKind, Target
from sloctl.sources.promql import number


@dataclass(frozen=True)
class Finding:
    """One service in one convention."""

    service: str
    convention: Convention
    identity: IdentityKind
    label: str  # the label holding the service name (job for IdentityKind.JOB)
    targets: tuple[Target, ...]
    check: BoundCheck | None  # None: the histogram has no bucket series for this service
    has_counter: bool
    status: StatusLabel | None  # the status label the series carry, if any

    @property
    def has_histogram(self) -> bool:
        return self.check is not None

    @property
    def service_from(self) -> str:
        """The spec's ``serviceFrom``: ``target_info`` or ``series``."""
        return "target_info" if self.identity is IdentityKind.TARGET_INFO else "series"

    def describe_identity(self) -> str:
        if self.identity is IdentityKind.TARGET_INFO:
            return f"target_info ({self.label} on job, instance)"
        if self.identity is IdentityKind.JOB:
            return "job label"
        return f"{self.label} label"


@dataclass(frozen=True)
class ConventionSeen:
    """A convention with series in Prometheus: the labels its series carry and its metadata."""

    convention: Convention
    labels: tuple[str, ...]
    metadata: tuple[dict[str, str], ...]
    unnamed: tuple[Target, ...]  # targets whose series name no service


@dataclass(frozen=True)
class Discovery:
    """Everything ``sloctl discover`` read from one Prometheus."""

    url: str
    at: datetime
    lookback: int
    threshold: float  # seconds: the latency threshold checked against the bounds
    looked_for: tuple[str, ...]
    conventions: tuple[ConventionSeen, ...] = ()
    findings: tuple[Finding, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.findings

    def preferred(self) -> dict[str, Finding]:
        """Per service, the convention a starter spec uses (OTel HTTP first, spans last)."""
        best: dict[str, Finding] = {}
        for f in sorted(self.findings, key=lambda f: (f.convention.rank, f.service)):
            if f.convention.preset is not None:
                best.setdefault(f.service, f)
        return best


def finding_json(f: Finding) -> dict[str, Any]:
    """One finding as JSON-ready values."""
    check = f.check
    histogram: dict[str, Any] | None = None
    if check is not None:
        histogram = {
            "metric": check.metric,
            "unit": check.unit_name,
            "bounds": list(check.bounds),
            "le": list(check.spellings),
            "threshold": format_seconds(check.threshold),
            "threshold_in_unit": check.bound,
            "threshold_is_bound": check.ok,
            "threshold_le": list(check.matching),
            "missing_on": [{"job": t.job, "instance": t.instance} for t in check.missing_on],
        }
    return {
        "service": f.service,
        "convention": f.convention.key,
        "preset": f.convention.preset,
        "identity": {
            "kind": f.identity.value,
            "label": f.label,
            "service_from": f.service_from,
            "targets": [{"job": t.job, "instance": t.instance} for t in f.targets],
        },
        "counter": f.convention.counter if f.has_counter else None,
        "status_label": f.status.label if f.status else None,
        "histogram": histogram,
    }


def discovery_json(d: Discovery) -> dict[str, Any]:
    """The whole discovery as JSON-ready values (``sloctl discover -o json``)."""
    return {
        "prometheus": d.url,
        "at": d.at.isoformat(),
        "lookback_seconds": d.lookback,
        "threshold": format_seconds(d.threshold),
        "looked_for": list(d.looked_for),
        "conventions": [
            {
                "key": c.convention.key,
                "description": c.convention.description,
                "preset": c.convention.preset,
                "histogram": c.convention.histogram,
                "counter": c.convention.counter,
                "unit": c.convention.unit_name,
                "labels": list(c.labels),
                "metadata": list(c.metadata),
                "unnamed_targets": [{"job": t.job, "instance": t.instance} for t in c.unnamed],
            }
            for c in d.conventions
        ],
        "services": [finding_json(f) for f in d.findings],
    }


def bounds_text(check: BoundCheck | None) -> str:
    """``0.005 0.01 ... 10`` for a table cell."""
    if check is None:
        return "-"
    return " ".join(number(b) for b in check.bounds)
