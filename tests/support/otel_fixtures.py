"""Pytest fixtures for the OpenTelemetry app harness (see :mod:`tests.support.otel`).

Registered for tests/integration by its conftest. A module chooses its apps by overriding
``otel_stack_config`` (module scope); ``otel_stack`` starts them and one Prometheus once per
module and stops everything after the module; ``otel_load`` starts background loads and stops
any still running at the end of the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from tests.support.otel.load import Load, Mix
from tests.support.otel.service import AppSpec
from tests.support.otel.stack import OtelStack, StackConfig

OtelLoad = Callable[..., Load]  # otel_load(service_name, mix, duration, workers=12) -> Load


@pytest.fixture(scope="module")
def otel_stack_config() -> StackConfig:
    """One app in the new semconv without a View; override in a module for other modes."""
    return StackConfig(apps=(AppSpec("checkout"),))


@pytest.fixture(scope="module")
def otel_stack(
    otel_stack_config: StackConfig, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OtelStack]:
    """The apps of ``otel_stack_config`` and a Prometheus scraping them, already scraped once."""
    with OtelStack(otel_stack_config, tmp_path_factory.mktemp("otel-stack")) as stack:
        yield stack


@pytest.fixture
def otel_load(otel_stack: OtelStack) -> Iterator[OtelLoad]:
    """``otel_load(name, mix, duration)`` starts traffic to one app in the background."""
    started: list[Load] = []

    def start(name: str, mix: Mix, duration: float, workers: int = 12) -> Load:
        load = otel_stack.driver(name, workers=workers).start(mix, duration)
        started.append(load)
        return load

    yield start
    for load in started:
        load.stop()
