"""A starter spec from a discovery: SLO documents that work on the Prometheus they came from
(pure: no I/O).

One ``ServiceSLOs`` document per (preset, service identity) group, each service in the
convention it is best read by (OpenTelemetry HTTP, then classic, then span metrics); gRPC, which
has no preset, gets plain ``SLO`` documents named ``grpc-latency`` and ``grpc-availability``.
When the threshold is not a bucket bound, a comment says so and shows the fix.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from sloctl.discover.bounds import format_seconds
from sloctl.discover.fixes import bucket_fix
from sloctl.discover.model import Discovery, Finding
from sloctl.sources.promql import duration

API_VERSION = "sloctl/v1"
AVAILABILITY_OBJECTIVE = 99.5
LATENCY_OBJECTIVE = 95.0


@dataclass(frozen=True)
class GroupKey:
    """Services that share one ServiceSLOs document."""

    preset: str
    label: str
    service_from: str
    availability: bool
    latency: bool


def _key(f: Finding) -> GroupKey:
    assert f.convention.preset is not None
    return GroupKey(f.convention.preset, f.label, f.service_from, f.has_counter,
                    f.has_histogram)


def starter_spec(d: Discovery) -> str:
    """The starter spec's YAML text (comments included)."""
    chosen = d.preferred()
    groups: dict[GroupKey, list[Finding]] = {}
    for f in chosen.values():
        groups.setdefault(_key(f), []).append(f)
    documents = [
        _service_slos(d, key, sorted(members, key=lambda f: f.service))
        for key, members in sorted(groups.items(), key=lambda kv: (
            kv[1][0].convention.rank, kv[0].label, kv[0].service_from, kv[1][0].service))
    ]
    documents += [_grpc(d, f) for f in d.findings if f.convention.preset is None]
    documents = [doc for doc in documents if doc]
    return "".join(_header(d, list(chosen.values()))) + "\n" + "---\n".join(documents)


def _header(d: Discovery, chosen: Sequence[Finding]) -> list[str]:
    lines = [
        f"# Starter SLO specs written by `sloctl discover` from {d.url}",
        f"# at {d.at.replace(microsecond=0).isoformat()} (series seen in the "
        f"{duration(d.lookback)} before).",
        "# Check them offline: sloctl validate FILE; against Prometheus: sloctl validate --live "
        "FILE",
    ]
    others = sorted(
        (f.service, f.convention.key)
        for f in d.findings
        if f.convention.preset is not None and chosen and f not in chosen
    )
    for service, key in others:
        lines.append(f"# {service} also has {key} series; this spec reads its preferred "
                     "convention only.")
    return [line + "\n" for line in lines]


def _dump(doc: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=100)
    return text


def _comment(text: str) -> list[str]:
    """``text`` as YAML comment lines; prose wrapped at 100 columns, indented code kept."""
    lines: list[str] = []
    for line in text.splitlines():
        parts = [line] if line.startswith(" ") or not line else textwrap.wrap(line, 96)
        lines += [("# " + part).rstrip() + "\n" for part in parts]
    return lines


def _objective(value: float) -> float | int:
    return int(value) if value.is_integer() else value


def _service_slos(d: Discovery, key: GroupKey, members: list[Finding]) -> str:
    conv = members[0].convention
    where = members[0].describe_identity()
    lines = _comment(f"{conv.key}: {conv.description}; service name from the {where}.")
    spec: dict[str, Any] = {
        "preset": key.preset,
        "serviceLabel": key.label,
        "serviceFrom": key.service_from,
        "services": [f.service for f in members],
    }
    if key.availability:
        spec["availability"] = {"objective": _objective(AVAILABILITY_OBJECTIVE)}
    else:
        spec["availability"] = {"enabled": False}
        lines.append(f"# No {conv.counter} series: availability is off.\n")
    if key.latency:
        spec["latency"] = {"objective": _objective(LATENCY_OBJECTIVE),
                           "threshold": format_seconds(d.threshold)}
        lines += _threshold_comment(d, members)
    else:
        spec["latency"] = {"enabled": False}
        lines.append(f"# No {conv.bucket_metric} series: latency is off.\n")
    doc = {"apiVersion": API_VERSION, "kind": "ServiceSLOs", "spec": spec}
    return "".join(lines) + _dump(doc)


def _threshold_comment(d: Discovery, members: list[Finding]) -> list[str]:
    checks = [f.check for f in members if f.check is not None]
    bad = [f for f in members if f.check is not None and not f.check.ok]
    threshold = format_seconds(d.threshold)
    if not bad:
        les = sorted({le for c in checks for le in c.matching})
        shown = ", ".join(f'le="{le}"' for le in les)
        return [f"# {threshold} is a bucket bound ({shown}) for every service here.\n"]
    lines: list[str] = []
    for f in bad:
        assert f.check is not None
        lines += _comment(f"{f.service}: {f.check.message()}")
    lines += _comment(
        "sloctl's engine interpolates inside the bucket (and flags the SLI as interpolated), "
        "but `sloctl rules generate` refuses a threshold that is not a bound. Either add the "
        "bound, or pick an existing one with `sloctl discover --threshold DURATION --write "
        "FILE`."
    )
    first = bad[0].check
    assert first is not None
    lines += _comment(str(bucket_fix(first.metric, first.unit, first.bounds, first.threshold)))
    return lines


def _grpc(d: Discovery, f: Finding) -> str:
    conv = f.convention
    identity: dict[str, Any] = {"serviceLabel": f.label, "serviceFrom": f.service_from}
    docs: list[str] = []
    head = _comment(f"{conv.key}: {conv.description}; service name from the "
                    f"{f.describe_identity()}.")
    if f.check is not None:
        head += _threshold_comment(d, [f])
        docs.append("".join(head) + _dump({
            "apiVersion": API_VERSION, "kind": "SLO", "metadata": {"name": "grpc-latency"},
            "spec": {"service": f.service, **identity, "objective": _objective(LATENCY_OBJECTIVE),
                     "indicator": {"latency": {"metric": conv.histogram,
                                               "threshold": format_seconds(d.threshold)}}},
        }))
        head = []
    if f.has_counter and f.status is not None:
        errors = {f.status.label: {"regex": f.status.error_regex}}
        docs.append("".join(head) + _dump({
            "apiVersion": API_VERSION, "kind": "SLO", "metadata": {"name": "grpc-availability"},
            "spec": {"service": f.service, **identity,
                     "objective": _objective(AVAILABILITY_OBJECTIVE),
                     "indicator": {"ratio": {"metric": conv.counter, "errors": errors}}},
        }))
    elif f.has_counter:
        labels = " or ".join(s.label for s in conv.status)
        docs[-1:] = [docs[-1] + f"# {f.service}: no {labels} label on {conv.counter}, so no "
                     "availability SLO was written.\n"] if docs else []
    return "---\n".join(docs)
