"""Which SLIs a canary judgement compares: the service's SLOs, or its preset's defaults.

An availability SLO on a counter (``MetricRatio``) gives the error-ratio check; a latency SLO on
a histogram (``HistogramLatency``) gives the threshold check and the p95 check. SLOs whose SLI
cannot take the sides' matchers (raw PromQL, Loki logs) are skipped and listed. A service
without SLOs in the specs is judged on the signals preset (settings ``signals.preset``) with the
ServiceSLOs defaults: 99.5 % availability, 95 % of requests within 300 ms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sloctl.canary.sides import CanaryRequestError
from sloctl.spec.canary_layout import CanaryLayout
from sloctl.spec.models import HistogramLatency, MetricRatio, ServiceIdentity, SLOSpec
from sloctl.spec.presets import HttpPreset

DEFAULT_AVAILABILITY = 99.5
DEFAULT_LATENCY = 95.0


@dataclass(frozen=True)
class Sli:
    """One SLI to compare: an availability ratio or a latency histogram, with its objective."""

    slo: str  # the SLO id, or "<service>/<preset> default"
    objective: float  # percent
    indicator: MetricRatio | HistogramLatency
    identity: ServiceIdentity

    @property
    def budget(self) -> float:
        return 1 - self.objective / 100


@dataclass(frozen=True)
class CanaryPlan:
    service: str
    slis: tuple[Sli, ...]
    layout: CanaryLayout | None
    notes: tuple[str, ...] = ()


def plan(
    service: str,
    specs: Sequence[SLOSpec],
    preset: HttpPreset,
    identity: ServiceIdentity,
    objectives: Sequence[str] = (),
) -> CanaryPlan:
    """The SLIs of ``service`` (only the SLOs named in ``objectives``, when given)."""
    own = [s for s in specs if s.service == service]
    unknown = sorted(set(objectives) - {s.name for s in own})
    if unknown:
        names = ", ".join(sorted(s.name for s in own)) or "none"
        raise CanaryRequestError(
            "objective", f"{', '.join(unknown)}: no such SLO of {service} (its SLOs: {names})")
    chosen = [s for s in own if not objectives or s.name in objectives]
    layouts = {s.canary for s in own if s.canary is not None}
    if len(layouts) > 1:
        raise CanaryRequestError(
            "service", f"the SLOs of {service} give different canary: layouts; give them one")
    layout = next(iter(layouts), None)
    if not own:
        note = (f"no SLO of {service} in the specs: judged on the {preset.name} preset's "
                f"defaults ({DEFAULT_AVAILABILITY:g} % available, {DEFAULT_LATENCY:g} % within "
                "300 ms)")
        return CanaryPlan(service, (
            Sli(f"{service}/availability", DEFAULT_AVAILABILITY, preset.availability(), identity),
            Sli(f"{service}/latency", DEFAULT_LATENCY, preset.latency(), identity),
        ), None, (note,))
    slis, notes = [], []
    for s in chosen:
        if isinstance(s.indicator, MetricRatio | HistogramLatency):
            slis.append(Sli(s.slo_id, s.objective, s.indicator, s.identity))
        else:
            notes.append(f"{s.slo_id} skipped: its {s.indicator_kind} SLI cannot be split into "
                         "canary and baseline by label matchers")
    if not slis:
        raise CanaryRequestError(
            "objective", f"none of the SLOs of {service} can be compared: {'; '.join(notes)}")
    return CanaryPlan(service, tuple(slis), layout, tuple(notes))
