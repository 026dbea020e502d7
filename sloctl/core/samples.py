"""One series of an instant query's answer, as every backend adapter returns it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    """One series of an instant-vector result: its labels and value."""

    labels: Mapping[str, str]
    value: float
