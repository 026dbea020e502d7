"""``sloctl discover``'s reading of a Prometheus: which conventions, services and bounds it holds.

Requests, all bounded by the known metric names (see :mod:`sloctl.discover.fetch`): one for the
names present, one for ``target_info``, then per convention found: its label names, its
metadata, and one ``group by`` query per series kind (buckets, and the counter when it is not
the histogram's ``_count``).
"""

from __future__ import annotations

from collections.abc import Mapping

from sloctl.discover.bounds import check_bound
from sloctl.discover.conventions import (
    CONVENTIONS,
    Convention,
    looked_for,
    present,
    status_label,
)
from sloctl.discover.fetch import Reader
from sloctl.discover.identity import Resolved, Target, resolve, target_services
from sloctl.discover.model import ConventionSeen, Discovery, Finding
from sloctl.spec.models import TARGET_INFO

SERVICE_LABEL = "service_name"  # OpenTelemetry's service.name in Prometheus


def discover(reader: Reader, threshold: float) -> Discovery:
    """Read the conventions, services, identities and bounds; raises ``BackendError``."""
    names = looked_for()
    found = reader.present_names([*names, TARGET_INFO])
    base = Discovery(
        url=reader.url, at=reader.span.at, lookback=reader.span.lookback,
        threshold=threshold, looked_for=tuple(names),
    )
    convs = present(CONVENTIONS, found)
    histogram_counters = {c.counter for c in convs if c.bucket_metric in found}
    convs = [c for c in convs if c.bucket_metric in found or c.counter not in histogram_counters]
    if not convs:
        return base
    info = target_services(reader.target_info(SERVICE_LABEL), SERVICE_LABEL) if (
        TARGET_INFO in found) else {}
    seen: list[ConventionSeen] = []
    findings: list[Finding] = []
    for conv in convs:
        result = _one_convention(reader, conv, found, info, threshold)
        if result is not None:
            seen.append(result[0])
            findings += result[1]
    findings = shared_counters_once(findings)
    used = {f.convention.key for f in findings}
    return Discovery(
        url=base.url, at=base.at, lookback=base.lookback, threshold=threshold,
        looked_for=base.looked_for,
        conventions=tuple(c for c in seen if c.convention.key in used or c.unnamed),
        findings=tuple(sorted(findings, key=lambda f: (f.service, f.convention.rank))),
    )


def shared_counters_once(findings: list[Finding]) -> list[Finding]:
    """Drop counter-only findings that another convention explains.

    Span metrics in seconds and in milliseconds share one counter (``calls_total``): a service
    whose counter shows up without a histogram in one of them is the same service as in the
    one that has its histogram, and is listed once when neither has it.
    """
    with_histogram = {(f.service, f.convention.counter) for f in findings if f.has_histogram}
    kept: list[Finding] = []
    counted: set[tuple[str, str]] = set()
    for f in sorted(findings, key=lambda f: f.convention.rank):
        key = (f.service, f.convention.counter)
        if not f.has_histogram and (key in with_histogram or key in counted):
            continue
        counted.add(key)
        kept.append(f)
    return kept


def _one_convention(
    reader: Reader,
    conv: Convention,
    found: set[str],
    info: Mapping[Target, str],
    threshold: float,
) -> tuple[ConventionSeen, list[Finding]] | None:
    has_buckets = conv.bucket_metric in found
    has_counter = conv.counter in found or (has_buckets and conv.counter_is_histogram_count)
    main = conv.bucket_metric if has_buckets else conv.counter
    labels = reader.label_names(main, conv.selector)
    if not labels or not set(conv.required_labels) <= labels:
        return None  # a namesake (e.g. a bare duration_seconds that is not span metrics)
    status = status_label(conv, labels)
    buckets = _resolve(reader, conv.bucket_metric, conv, info, buckets=True) if has_buckets \
        else None
    counter = None
    if has_counter and not conv.counter_is_histogram_count:
        counter = _resolve(reader, conv.counter, conv, info, buckets=False)
    metadata = reader.metadata(conv.histogram if has_buckets else conv.counter.removesuffix(
        "_total"))
    findings = []
    services = set(buckets.services if buckets else {}) | set(counter.services if counter else {})
    for service in sorted(services):
        series = (buckets.services.get(service) if buckets else None) or (
            counter.services[service] if counter else None)
        assert series is not None
        in_buckets = buckets.services.get(service) if buckets else None
        check = (
            check_bound(conv.histogram, conv.unit, threshold, in_buckets.le_by_target)
            if in_buckets is not None else None
        )
        counted = (
            service in counter.services if counter is not None
            else conv.counter_is_histogram_count and in_buckets is not None
        )
        findings.append(Finding(
            service=service, convention=conv, identity=series.kind, label=series.label,
            targets=tuple(series.targets), check=check, has_counter=counted, status=status,
        ))
    unnamed = tuple(sorted({
        *(buckets.unnamed if buckets else ()), *(counter.unnamed if counter else ())}))
    return ConventionSeen(conv, tuple(sorted(labels)), tuple(metadata), unnamed), findings


def _resolve(
    reader: Reader, metric: str, conv: Convention, info: Mapping[Target, str], *, buckets: bool
) -> Resolved:
    rows = reader.service_rows(metric, conv.selector, SERVICE_LABEL, buckets=buckets)
    return resolve(rows, info, SERVICE_LABEL)
