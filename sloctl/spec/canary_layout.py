"""Where a service's canary and baseline series are told apart (a spec's ``canary:``).

Real rollouts produce one of these layouts, each configured per spec:

- a version label: ``label: version`` (or ``service_version``), values per judgement;
- a track label: ``label: track``, ``canary: canary``, ``baseline: stable``;
- Argo Rollouts' pod template hash: ``label: rollouts_pod_template_hash`` (the pod label
  ``rollouts-pod-template-hash`` as Prometheus' Kubernetes discovery maps it), values per
  judgement (the Rollout's Latest and Stable hashes);
- a separate canary service name: ``service: podinfo-canary``, ``baselineService:
  podinfo-primary`` (Flagger's naming), no label.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CanaryLayout:
    """Resolved ``canary:`` of one service. ``None`` values are given per judgement."""

    label: str | None = None  # the label whose value tells the two sides apart
    canary: str | None = None  # its value on the canary's series
    baseline: str | None = None  # its value on the baseline's series
    canary_service: str | None = None  # the canary's service name, when it has its own
    baseline_service: str | None = None  # the baseline's, when not the SLO's service
