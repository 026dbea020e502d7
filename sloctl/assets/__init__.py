"""The files the wheel ships besides code, found with ``importlib.resources`` (never a path of
the repository): Grafana's provisioning and dashboards, the rules and their examples, the
runbooks, the Collector config, the settings example and the demo's specs.

In a checkout, ``sloctl/assets/<name>`` is a symbolic link to the repository's folder of the
same name (``grafana/``, ``rules/``, ``docs/``, ``collector_config/``, ``sloctl.example.yaml``):
the repository keeps its layout and the wheel carries the files themselves (pyproject.toml's
package data). ``sloctl assets`` shows where they lie and copies them out.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sloctl.errors import SloctlError


class AssetError(SloctlError):
    """An unknown asset, or one that cannot be read or copied where asked."""


@dataclass(frozen=True)
class Asset:
    """One packaged file or folder: ``where`` is its path inside the ``sloctl`` package."""

    name: str
    where: str
    about: str


ASSETS = (
    Asset("grafana", "assets/grafana", "Grafana provisioning (datasources, the dashboard "
          "provider, their variables in sloctl.env) and the dashboards' JSON; see README.md"),
    Asset("rules", "assets/rules", "the shop's SLO specs (slos/), their generated Prometheus "
          "rules (generated/), promtool tests (tests/), Sloth and OpenSLO examples (examples/)"),
    Asset("docs", "assets/docs", "runbooks.md (every alert's runbook_url) and canary.md (Argo "
          "Rollouts and Flagger examples)"),
    Asset("collector", "assets/collector_config", "an OpenTelemetry Collector config with the "
          "span_metrics connector"),
    Asset("settings", "assets/sloctl.example.yaml", "every setting of sloctl.yaml, commented"),
    Asset("demo-specs", "demo/specs", "the SLO specs of the demo's shop"),
)


def asset(name: str) -> Asset:
    """The asset called ``name``; ``AssetError`` listing the names otherwise."""
    for item in ASSETS:
        if item.name == name:
            return item
    raise AssetError(f"no asset {name!r}: one of {', '.join(a.name for a in ASSETS)}")


def path(name: str, *parts: str) -> Path:
    """The installed path of asset ``name`` (or of ``parts`` inside it)."""
    found = resources.files("sloctl").joinpath(*asset(name).where.split("/"), *parts)
    if not isinstance(found, Path):  # only a zipped install; pip and uv always unpack wheels
        raise AssetError(f"{found} is not a file on disk: install sloctl from its wheel with "
                         "pip or uv")
    if not found.exists():
        raise AssetError(f"{found} is missing: the installation of sloctl is incomplete")
    return found


def copy(name: str, dest: Path) -> Path:
    """Copy asset ``name`` to ``dest`` (a new file or folder; an existing one is refused)."""
    source = path(name)
    if dest.exists():
        raise AssetError(f"{dest} exists: name a new folder (nothing was copied)")
    if source.is_dir():
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__"))
    else:
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
    return dest
