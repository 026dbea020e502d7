"""DORA scorecards <-> the JSON ``body`` of ``dora_scorecards`` rows.

The document is the one sloctl has always stored (``metrics`` keyed by metric name, times in ISO
8601, ``trend`` and ``deploy_failure_rate`` written for readers of the raw JSON); decoding
rebuilds the ``Scorecard`` and ignores the derived fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sloctl.dora.compute import Figure, Goal, Scorecard
from sloctl.dora.levels import Level, Metric


def encode_figure(f: Figure) -> dict[str, Any]:
    return {
        "value": f.value,
        "unit": f.unit,
        "p90": f.p90,
        "n": f.n,
        "numerator": f.numerator,
        "denominator": f.denominator,
        "level": f.level.value if f.level else None,
        "no_level_reason": f.no_level_reason,
        "report_year": f.report_year,
        "house_goal": None if f.goal is None else {"text": f.goal.text, "met": f.goal.met},
        "lower_bound": f.lower_bound,
        "previous": f.previous,
        "trend": f.trend,
        "notes": list(f.notes),
        "details": dict(f.details),
    }


def decode_figure(metric: str, doc: Mapping[str, Any]) -> Figure:
    goal = doc.get("house_goal")
    return Figure(
        metric=Metric(metric),
        value=doc["value"],
        unit=doc["unit"],
        n=doc["n"],
        report_year=doc["report_year"],
        level=Level(doc["level"]) if doc.get("level") else None,
        no_level_reason=doc.get("no_level_reason"),
        p90=doc.get("p90"),
        numerator=doc.get("numerator"),
        denominator=doc.get("denominator"),
        goal=None if goal is None else Goal(goal["text"], goal["met"]),
        lower_bound=bool(doc.get("lower_bound", False)),
        previous=doc.get("previous"),
        notes=tuple(doc.get("notes", ())),
        details=dict(doc.get("details", {})),
    )


def encode(card: Scorecard) -> dict[str, Any]:
    """The stored JSON document of one scorecard."""
    return {
        "scope": card.scope,
        "since": card.since.isoformat(),
        "until": card.until.isoformat(),
        "services": list(card.services),
        "metrics": {f.metric.value: encode_figure(f) for f in card.figures},
        "redeploys": card.redeploys,
        "failed_attempts": card.failed_attempts,
        "deploy_failure_rate": card.deploy_failure_rate,
        "duplicates": card.duplicates,
        "data_quality": dict(card.data_quality),
        "open_failures": [{"deployment": d, "age_seconds": a} for d, a in card.open_failures],
    }


def decode(doc: Mapping[str, Any]) -> Scorecard:
    """The scorecard of a stored JSON document (figures in their stored order)."""
    return Scorecard(
        scope=doc["scope"],
        since=datetime.fromisoformat(doc["since"]),
        until=datetime.fromisoformat(doc["until"]),
        services=tuple(doc["services"]),
        figures=tuple(decode_figure(name, f) for name, f in doc["metrics"].items()),
        redeploys=doc["redeploys"],
        failed_attempts=doc["failed_attempts"],
        duplicates=doc["duplicates"],
        data_quality=dict(doc["data_quality"]),
        open_failures=tuple((o["deployment"], float(o["age_seconds"]))
                            for o in doc["open_failures"]),
    )
