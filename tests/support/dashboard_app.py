"""Running the app's pages in-process with Streamlit's AppTest, against a store of the test.

    from tests.support.dashboard_app import app_store_fixture  # noqa: F401 (fixture app_store)

    def test_x(app_store: str) -> None:          # an empty SQLite URL, SLOCTL_* cleared
        fill(app_store)                          # tests.support.dashboard_history
        page = open_page("overview", team="shop")

``open_page`` runs the app once (its default page), then switches to ``page`` with the URL's
query parameters, as a visitor following a shared link would. The Streamlit caches are cleared
around every test, which closes the cached read-only stores.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sloctl.dashboard import data

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"


def clear_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(name="app_store")
def app_store_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A SQLite URL (no file yet) that the app reads; no stray settings."""
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    for name in [n for n in os.environ if n.startswith("SLOCTL_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SLOCTL_STORE_URL", url)
    monkeypatch.chdir(tmp_path)  # no stray sloctl.yaml
    clear_caches()
    yield url
    clear_caches()


def at_clock(monkeypatch: pytest.MonkeyPatch, now: datetime) -> None:
    """The app's wall clock (the data's age) reads ``now``."""
    monkeypatch.setattr(data, "now", lambda: now)


def checked(page: AppTest) -> AppTest:
    assert not page.exception, [e.value for e in page.exception]
    return page


def open_page(name: str | None = None, **params: str) -> AppTest:
    """The app at ``/<name>?<params>`` (``None``: its default page)."""
    page = AppTest.from_file(str(APP), default_timeout=60)
    page.query_params.update(params)
    checked(page.run())
    if name is not None:
        page.switch_page(f"app_pages/{name}.py")
        page.query_params.update(params)
        checked(page.run())
    return page


def texts(page: AppTest, kind: str) -> list[str]:
    """The values of every element of one kind (caption, markdown, info, ...)."""
    return [str(e.value) for e in page.get(kind)]


def chart_spec(page: AppTest, key: str) -> dict[str, Any]:
    """The plotly figure (as JSON) of the chart drawn with ``key``."""
    found = next(c for c in page.get("plotly_chart") if key in c.proto.id)
    spec: dict[str, Any] = json.loads(found.proto.spec)
    return spec


def values(axis: Any) -> list[Any]:
    """A trace's x or y: plotly writes numbers as a typed array (base64 of raw doubles)."""
    if isinstance(axis, dict):
        return list(np.frombuffer(base64.b64decode(axis["bdata"]), dtype=axis["dtype"]).tolist())
    return list(axis)
