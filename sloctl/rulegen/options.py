"""What ``sloctl rules generate`` writes besides the defaults: extra labels, recordings or
alerts only, and the output format (Prometheus rule files or prometheus-operator CRDs)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from sloctl.core import recordings
from sloctl.rulegen.model import Group, Rule, RuleGenError
from sloctl.sources.promql import check_label_name

OutputFormat = Literal["prometheus", "prometheus-operator"]
FORMATS: tuple[OutputFormat, ...] = ("prometheus", "prometheus-operator")
# Labels that make up an alert's or a recording's identity: an extra label may not replace them.
RESERVED_LABELS = frozenset({
    "alertname", "service", "slo", "severity", "sloth_severity", *recordings.SLO_LABELS,
    recordings.SLOTH_WINDOW,
})
_K8S_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_K8S_LABEL = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
_K8S_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")


@dataclass(frozen=True)
class CrdMeta:
    """``metadata`` of the generated ``PrometheusRule`` objects."""

    name_prefix: str = ""
    namespace: str | None = None
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class RuleOptions:
    """Which rules to write and how; the defaults are the committed ``rules/generated``."""

    extra_labels: tuple[tuple[str, str], ...] = ()
    recordings: bool = True
    alerts: bool = True
    output: OutputFormat = "prometheus"
    crd: CrdMeta = CrdMeta()

    def __post_init__(self) -> None:
        if not self.recordings and not self.alerts:
            raise RuleGenError(
                "--disable-recordings and --disable-alerts together leave nothing to generate; "
                "keep one of them"
            )
        for key, _ in self.extra_labels:
            if key in RESERVED_LABELS:
                raise RuleGenError(
                    f"--extra-label {key}=... would replace a label sloctl's rules identify SLOs "
                    f"and alerts with ({', '.join(sorted(RESERVED_LABELS))}); use another name"
                )


def parse_label(text: str, option: str) -> tuple[str, str]:
    """``KEY=VALUE`` of a command-line option; ``RuleGenError`` with the fix otherwise."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise RuleGenError(f"{option} takes KEY=VALUE, e.g. {option} cluster=prod; got {text!r}")
    return key, value


def prometheus_labels(pairs: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """``--extra-label`` values as Prometheus labels (valid names, last one of a key wins)."""
    labels: dict[str, str] = {}
    for text in pairs:
        key, value = parse_label(text, "--extra-label")
        try:
            check_label_name(key)
        except ValueError as exc:
            raise RuleGenError(f"--extra-label {text}: {exc}") from None
        labels[key] = value
    return tuple(sorted(labels.items()))


def crd_meta(prefix: str, namespace: str | None, pairs: Sequence[str]) -> CrdMeta:
    """``PrometheusRule`` metadata from the command line, checked as Kubernetes checks it."""
    if prefix and not _K8S_NAME.fullmatch(f"{prefix}x"):
        raise RuleGenError(f"--crd-name-prefix {prefix!r}: use lowercase letters, digits and "
                           "'-', starting with a letter or digit, e.g. slo-")
    if namespace is not None and (len(namespace) > 63 or not _K8S_NAME.fullmatch(namespace)):
        raise RuleGenError(f"--crd-namespace {namespace!r} is not a Kubernetes namespace name "
                           "(at most 63 lowercase letters, digits and '-')")
    labels: dict[str, str] = {}
    for text in pairs:
        key, value = parse_label(text, "--crd-label")
        prefix_part, _, name = key.rpartition("/")
        if (len(name) > 63 or not name or not _K8S_LABEL.fullmatch(name)
                or (prefix_part and not _K8S_PREFIX.fullmatch(prefix_part))
                or len(value) > 63 or not _K8S_LABEL.fullmatch(value)):
            raise RuleGenError(
                f"--crd-label {text}: not a Kubernetes label (name and value: at most 63 letters, "
                "digits, '-', '_', '.', starting and ending with a letter or digit; optional "
                "prefix/), e.g. --crd-label prometheus=k8s"
            )
        labels[key] = value
    return CrdMeta(prefix, namespace, tuple(sorted(labels.items())))


def apply_options(groups: Iterable[Group], options: RuleOptions) -> list[Group]:
    """``groups`` with only the kinds of rules asked for (empty groups dropped), and the extra
    labels on every rule (a rule's own labels win)."""
    kinds = {"record"} if not options.alerts else {"alert"} if not options.recordings else None
    out = []
    for group in groups:
        rules = tuple(
            _labelled(rule, options.extra_labels)
            for rule in group.rules
            if kinds is None or rule.kind in kinds
        )
        if rules:
            out.append(Group(group.name, rules))
    return out


def _labelled(rule: Rule, extra: tuple[tuple[str, str], ...]) -> Rule:
    return replace(rule, labels={**dict(extra), **rule.labels}) if extra else rule


def k8s_name(stem: str, prefix: str = "") -> str:
    """A file stem as a Kubernetes object name: ``My_SLOs`` -> ``my-slos`` (with ``prefix``)."""
    name = re.sub(r"[^a-z0-9]+", "-", f"{prefix}{stem}".lower()).strip("-")
    return name[:253].rstrip("-") or "slos"
