"""Store a judgement with the deployment it concerns, and name that deployment in the answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sloctl.canary.judge import CanaryReport, report_json
from sloctl.dora.model import CanaryJudgement, Deployment
from sloctl.store import Store
from sloctl.store.canary import JudgementRecord


def deployment_of(store: Store, report: CanaryReport) -> Deployment | None:
    """The latest recorded deployment of the judged service and version, if any."""
    if report.version is None:
        return None
    judged = CanaryJudgement(report.request.service, report.version, report.at,
                             report.verdict.value, report.request.environment)
    found = [d for d in store.deployments.history(service=report.request.service)
             if judged.concerns(d)]
    return found[-1] if found else None


def record(store: Store, report: CanaryReport, source: str, now: datetime) -> dict[str, Any]:
    """Save the judgement; returns the JSON answer with ``judgement_id`` and ``deployment``."""
    deployment = deployment_of(store, report)
    body = report_json(report)
    body["deployment"] = None if deployment is None else {
        "service": deployment.service, "environment": deployment.environment,
        "version": deployment.version, "commit_sha": deployment.sha,
        "finished_at": deployment.finished.isoformat(),
    }
    environment = report.request.environment or (
        deployment.environment if deployment is not None else None)
    saved = store.canary.save(JudgementRecord(
        at=report.at, service=report.request.service, verdict=report.verdict.value,
        canary=report.canary.describe(), baseline=report.baseline.describe(),
        since_seconds=report.request.since, source=source, recorded_at=now,
        version=report.version, environment=environment, body=body,
    ))
    body["judgement_id"] = saved
    return body
