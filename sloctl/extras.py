"""The wheel's extras, and the typed error when a command needs one that is not installed.

``pip install sloctl`` is the CLI: settings, specs, the store, the Prometheus, Loki and Jaeger
clients, rules. The rest comes with an extra (pyproject.toml, README: Installing):

- ``serve``: ``sloctl serve`` (FastAPI, uvicorn, APScheduler, prometheus-client, the
  OpenTelemetry SDK and OTLP exporter), the weekly email (Jinja2, matplotlib), ``sloctl canary``
  (SciPy);
- ``dashboard``: ``sloctl dashboard`` (Streamlit, pandas, plotly), ``sloctl slo history`` (pandas);
- ``postgres``: the PostgreSQL driver; ``all``: the three; ``demo``: ``python -m sloctl.demo``.

Code that needs an extra imports it lazily, inside ``needs``, so a missing package is one
``MissingExtraError`` naming the extra (exit 2), never a traceback::

    with needs("serve", "sloctl serve"):
        from sloctl.runtime.daemon import Daemon
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from contextlib import contextmanager

from sloctl.errors import MissingExtraError

# extra -> the import names of the packages it brings (pyproject.toml's lists)
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "serve": ("fastapi", "uvicorn", "apscheduler", "prometheus_client", "opentelemetry.sdk",
              "opentelemetry.exporter.otlp.proto.http", "jinja2", "matplotlib", "scipy"),
    "dashboard": ("streamlit", "pandas", "plotly"),
    "postgres": ("psycopg",),
}
EXTRA_MODULES["demo"] = (*EXTRA_MODULES["serve"], *EXTRA_MODULES["dashboard"], "numpy",
                         "aiosmtpd")
# what those bring along, for naming the extra of a module missing outside ``needs``
_ALONG: dict[str, str] = {"starlette": "serve", "opentelemetry.exporter": "serve",
                          "google.protobuf": "serve", "altair": "dashboard"}


def extra_of(module: str) -> str | None:
    """The extra that installs ``module`` (an import name, dotted or not); None if none does."""
    for extra, names in [*EXTRA_MODULES.items(), *((e, (n,)) for n, e in _ALONG.items())]:
        if any(module == name or module.startswith(name + ".")
               or name.startswith(module + ".") for name in names):
            return extra
    return None


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


def require(extra: str, feature: str) -> None:
    """Raise ``MissingExtraError`` unless every package of ``extra`` can be imported."""
    missing = [name for name in EXTRA_MODULES[extra] if not _installed(name)]
    if missing:
        raise MissingExtraError(feature, extra, " and ".join(missing))


def missing_extra(exc: ModuleNotFoundError, feature: str,
                  extra: str | None = None) -> MissingExtraError | None:
    """``exc`` as the typed error of ``feature``, or None when it is no extra's module (ours)."""
    name = exc.name or ""
    if not name or name == "sloctl" or name.startswith("sloctl."):
        return None
    extra = extra or extra_of(name)
    return None if extra is None else MissingExtraError(feature, extra, name)


@contextmanager
def needs(extra: str | None, feature: str) -> Iterator[None]:
    """Turn a third-party module missing within the block into ``feature``'s typed error,
    naming ``extra`` (None: the extra that installs the missing module)."""
    try:
        yield
    except ModuleNotFoundError as exc:
        error = missing_extra(exc, feature, extra)
        if error is None:
            raise
        raise error from exc
