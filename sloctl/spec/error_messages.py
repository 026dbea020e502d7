"""Turn pydantic validation errors into short, actionable messages and dotted field paths."""

from __future__ import annotations

import difflib
import reprlib
import types
import typing
from collections.abc import Sequence

from pydantic import BaseModel
from pydantic_core import ErrorDetails

Loc = Sequence[str | int]

_TYPE_HINTS = {
    "string_type": "must be a string; quote the value in YAML",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "dict_type": "must be a mapping (key: value)",
    "model_type": "must be a mapping (field: value)",
    "model_attributes_type": "must be a mapping (field: value)",
    "list_type": "must be a list, e.g. [a, b]",
    "tuple_type": "must be a list, e.g. [a, b]",
}


def loc_path(loc: Loc) -> str:
    """Dotted path of a pydantic ``loc``: ``("spec", "services", 2)`` -> ``spec.services[2]``."""
    path = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def describe_input(value: object) -> str:
    """A short description of a bad input value for messages."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return reprlib.repr(value)


def describe_error(error: ErrorDetails, model: type[BaseModel] | None = None) -> str:
    """An actionable message for one pydantic error; ``model`` helps list valid field names."""
    kind, loc = error["type"], error["loc"]
    got = describe_input(error.get("input"))
    if kind == "missing":
        return f"required field {loc[-1]!r} is missing" if loc else "required field is missing"
    if kind == "extra_forbidden":
        return _unknown_field(str(loc[-1]), _fields_at(model, loc[:-1]) if model else None)
    if kind in ("value_error", "assertion_error"):
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind == "literal_error":
        return f"must be {error.get('ctx', {}).get('expected', '?')}; got {got}"
    hint = _TYPE_HINTS.get(kind)
    if hint is not None:
        return f"{hint}; got {got}"
    return f"{error['msg'][0].lower()}{error['msg'][1:]}; got {got}"


def _unknown_field(name: str, valid: list[str] | None) -> str:
    message = f"unknown field {name!r}"
    if valid:
        close = difflib.get_close_matches(name, valid, n=1)
        if close:
            message += f" (did you mean {close[0]!r}?)"
        message += f"; valid fields here: {', '.join(valid)}"
    return message


def _fields_at(model: type[BaseModel] | None, loc: Loc) -> list[str] | None:
    """Field names (aliases) of the model found by walking ``loc`` from ``model``."""
    for part in loc:
        if model is None:
            return None
        if isinstance(part, int) or part == "[key]":
            continue
        field = next((f for name, f in model.model_fields.items() if part in (name, f.alias)), None)
        model = _model_in(field.annotation) if field is not None else None
    if model is None:
        return None
    return [f.alias or name for name, f in model.model_fields.items()]


def _model_in(annotation: object) -> type[BaseModel] | None:
    """The first pydantic model class inside a type annotation (through Optional, list, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) is typing.Annotated:
        return _model_in(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, list, tuple, dict):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None
