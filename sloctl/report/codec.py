"""Report values <-> JSON documents (the store's ``body`` columns), exactly.

``encode`` and ``decode(Type, doc)`` handle the report's frozen dataclasses by their type hints:
datetimes as ISO 8601 with offset, enums by value, tuples as lists, mappings as objects, floats
as JSON numbers (repr round-trips exactly; infinities and NaN as strings), DORA scorecards as
``sloctl.store.scorecard_codec`` documents. ``decode(encode(x)) == x`` for every report value,
so a scorecard rebuilt from stored inputs has the same digits as the first one.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin

from sloctl.dora.compute import Scorecard
from sloctl.store import scorecard_codec

T = TypeVar("T")
NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def encode(value: Any) -> Any:
    """A JSON-ready document of a report value."""
    if isinstance(value, Scorecard):
        return scorecard_codec.encode(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def decode(kind: Any, doc: Any) -> Any:
    """The value of type ``kind`` that ``encode`` wrote as ``doc``."""
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        options = [a for a in get_args(kind) if a is not type(None)]
        if doc is None:
            return None
        if len(options) == 1:
            return decode(options[0], doc)
        for option in options:  # e.g. int | float: the first that fits the document
            if option in (int, float) and isinstance(doc, int | float | str):
                return decode(option, doc)
        return decode(options[0], doc)
    if origin is tuple:
        args = get_args(kind)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(args[0], d) for d in doc)
        return tuple(decode(a, d) for a, d in zip(args, doc, strict=True))
    if origin in (dict, Mapping, typing.Mapping) or kind in (dict, Mapping):
        args = get_args(kind)
        value_type = args[1] if args else Any
        return {k: decode(value_type, v) for k, v in doc.items()}
    if kind is Any:
        return doc
    if kind is Scorecard:
        return scorecard_codec.decode(doc)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = _hints(kind)
        fields = {f.name for f in dataclasses.fields(kind) if f.init}
        return kind(**{name: decode(hints[name], doc[name]) for name in fields if name in doc})
    if isinstance(kind, type) and issubclass(kind, Enum):
        return kind(doc)
    if kind is datetime:
        return datetime.fromisoformat(doc)
    if kind is float:
        return NON_FINITE[doc] if isinstance(doc, str) else float(doc)
    return doc


def roundtrip(kind: type[T], value: T) -> T:
    """``decode(kind, encode(value))``: what the store gives back."""
    result: T = decode(kind, encode(value))
    return result
