"""DORA gauges for ``/metrics`` from the latest stored scorecards (``store.scorecards``).

Every series carries ``scope`` ("order/production", "team shop", "organisation") plus ``service``
and ``environment`` (empty for team and organisation roll-ups). Unknown values are omitted, never
exported as 0; a level is exported one-hot over the four levels only when the figure has one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily

from sloctl.dora.compute import Figure
from sloctl.dora.levels import Level, Metric
from sloctl.store.scorecards import StoredScorecard

DoraSource = Callable[[], Sequence[StoredScorecard]]
SCOPE_LABELS = ("scope", "service", "environment")
QUANTILES = (("0.5", "value"), ("0.9", "p90"))

# metric -> (series name, help, has quantiles)
FIGURES: dict[Metric, tuple[str, str, bool]] = {
    Metric.DEPLOYMENT_FREQUENCY: (
        "sloctl_dora_deployment_frequency_per_day",
        "Counted production deployments per day over the DORA window.",
        False,
    ),
    Metric.LEAD_TIME: (
        "sloctl_dora_lead_time_seconds",
        "Lead time for changes (commit to production), median and p90.",
        True,
    ),
    Metric.CHANGE_FAILURE_RATE: (
        "sloctl_dora_change_failure_rate",
        "Failed deployments / deployments (rollbacks excluded), 0..1.",
        False,
    ),
    Metric.RECOVERY_TIME: (
        "sloctl_dora_failed_deployment_recovery_time_seconds",
        "Failed deployment recovery time, median and p90.",
        True,
    ),
    Metric.TIME_TO_RESTORE: (
        "sloctl_dora_time_to_restore_seconds",
        "Incident time to restore service, median and p90.",
        True,
    ),
    Metric.REWORK_RATE: (
        "sloctl_dora_rework_rate",
        "Rework deployments (rollback, hotfix, deployed while failing) / deployments, 0..1.",
        False,
    ),
}


def scope_labels(card: StoredScorecard) -> list[str]:
    """[scope, service, environment]; service and environment empty for roll-ups."""
    if card.kind != "service":
        return [card.scope, "", ""]
    service, _, environment = card.scope.partition("/")
    return [card.scope, service, environment]


def _figure(card: StoredScorecard, metric: Metric) -> Figure | None:
    return next((f for f in card.card.figures if f.metric == metric), None)


def dora_families(cards: Sequence[StoredScorecard]) -> Iterator[GaugeMetricFamily]:
    """The DORA gauge families of one computation's scorecards (nothing when there are none)."""
    if not cards:
        return
    computed = GaugeMetricFamily(
        "sloctl_dora_computed_timestamp_seconds", "When the DORA scorecards were computed."
    )
    computed.add_metric([], max(c.computed_at for c in cards).timestamp())
    yield computed
    for metric, (name, doc, quantiles) in FIGURES.items():
        labels = [*SCOPE_LABELS, "quantile"] if quantiles else list(SCOPE_LABELS)
        family = GaugeMetricFamily(name, doc, labels=labels)
        for card in cards:
            figure = _figure(card, metric)
            if figure is None:
                continue
            for quantile, key in QUANTILES if quantiles else (("", "value"),):
                value = getattr(figure, key)
                if value is not None:
                    extra = [quantile] if quantiles else []
                    family.add_metric([*scope_labels(card), *extra], float(value))
        yield family
    yield from _sample_level_goal(cards)


def _sample_level_goal(cards: Sequence[StoredScorecard]) -> Iterator[GaugeMetricFamily]:
    size = GaugeMetricFamily(
        "sloctl_dora_sample_size",
        "Sample size of a DORA figure: deployments, lead-time commits, recoveries or incidents.",
        labels=[*SCOPE_LABELS, "metric"],
    )
    level = GaugeMetricFamily(
        "sloctl_dora_level",
        "1 for the figure's DORA level in the report year's bands, 0 for the other levels.",
        labels=[*SCOPE_LABELS, "metric", "level", "report_year"],
    )
    goal = GaugeMetricFamily(
        "sloctl_dora_house_goal_met",
        "1 when the figure meets the house goal, 0 when it misses it.",
        labels=[*SCOPE_LABELS, "metric"],
    )
    for card in cards:
        base = scope_labels(card)
        for metric in Metric:
            figure = _figure(card, metric)
            if figure is None:
                continue
            size.add_metric([*base, metric.value], float(figure.n))
            if figure.level is not None:
                year = str(figure.report_year)
                for candidate in Level:
                    level.add_metric(
                        [*base, metric.value, candidate.value, year],
                        float(candidate is figure.level),
                    )
            if figure.goal is not None and figure.goal.met is not None:
                goal.add_metric([*base, metric.value], float(figure.goal.met))
    yield from (size, level, goal)
