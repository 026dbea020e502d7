"""Rule files as text: Prometheus rule files, prometheus-operator ``PrometheusRule`` objects,
or all of them as one YAML stream (``--stdout``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sloctl.rulegen.model import RuleFile
from sloctl.rulegen.names import HEADER
from sloctl.rulegen.options import CrdMeta, RuleOptions, k8s_name
from sloctl.rulegen.render import render_document, render_rules

CRD_API_VERSION = "monitoring.coreos.com/v1"
CRD_KIND = "PrometheusRule"


def header(file: RuleFile) -> list[str]:
    """The DO-NOT-EDIT line naming the spec files, then the notes."""
    return [HEADER.format(sources=", ".join(file.sources)), *file.notes]


def render_file(file: RuleFile, options: RuleOptions) -> str:
    """One file in the output format of ``options``."""
    if options.output == "prometheus":
        return render_rules(file.groups, header(file))
    return render_document(prometheus_rule(file, options.crd), header(file))


def prometheus_rule(file: RuleFile, crd: CrdMeta) -> dict[str, object]:
    """A ``monitoring.coreos.com/v1`` ``PrometheusRule`` holding the groups of ``file``, named
    after it (``shop.yml`` -> ``<prefix>shop``)."""
    metadata: dict[str, object] = {"name": k8s_name(Path(file.name).stem, crd.name_prefix)}
    if crd.namespace is not None:
        metadata["namespace"] = crd.namespace
    if crd.labels:
        metadata["labels"] = dict(crd.labels)
    return {
        "apiVersion": CRD_API_VERSION,
        "kind": CRD_KIND,
        "metadata": metadata,
        "spec": {"groups": [g.as_dict() for g in file.groups]},
    }


def render_stream(files: Sequence[RuleFile], options: RuleOptions) -> str:
    """Every file as one YAML stream: Prometheus rules as a single rule file (all groups, one
    header), ``PrometheusRule`` objects as documents separated by ``---``."""
    if options.output == "prometheus":
        sources = tuple(dict.fromkeys(s for f in files for s in f.sources))
        merged = RuleFile(
            "", sources, tuple(n for f in files for n in f.notes),
            tuple(g for f in files for g in f.groups),
        )
        return render_rules(merged.groups, header(merged))
    return "---\n".join(render_file(f, options) for f in files)
