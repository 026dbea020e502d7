"""The deployment timeline's rows: deployments and canary judgements, newest first, each
judgement naming the recorded deployment of its version."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sloctl.dashboard.canary_timeline import timeline_rows
from sloctl.dora.model import Deployment
from sloctl.store import Store
from sloctl.store.canary import JudgementRecord


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, 4, hour, minute, tzinfo=UTC)


def test_judgements_sit_beside_the_deployment_they_concern(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 's.db'}") as store:
        store.deployments.record(Deployment("shop", "production", "v3", "s3" * 10, t(10)),
                                 "cli", t(10))
        for at, verdict, version in ((t(10, 10), "fail", "v3"), (t(10, 5), "inconclusive", None)):
            store.canary.save(JudgementRecord(
                at, "shop", verdict, 'shop{version="v3"}', 'shop{version="v2"}', 600, "http",
                at, version))
        rows = timeline_rows(store.reader(), t(0), t(23))
    assert [(r.at, r.kind, r.version, r.what) for r in rows] == [
        (t(10, 10), "canary", "v3", "❌ fail"),
        (t(10, 5), "canary", "", "⏳ inconclusive"),
        (t(10), "deployment", "v3", "success"),
    ]
    assert rows[0].detail.endswith("over 10 min; deployment v3 of 2026-03-04 10:00")
    assert rows[1].detail.endswith("no recorded deployment")
