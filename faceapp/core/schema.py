"""Validating TOML documents against typed schemas (pydantic), with messages naming file and field.

Model manifests and training configurations are frozen pydantic dataclasses; a document is checked
in pydantic's strict JSON mode (TOML arrays may fill tuples and integers may fill floats, but
``lr = "fast"`` or ``batch_size = "8"`` is an error) and the first problem becomes one sentence:
``<file>: field 'train.batch_size' must be an integer, not '8'``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

T = TypeVar("T")

_EXPECTED = {
    "int_type": "an integer", "int_parsing": "an integer", "float_type": "a number", "bool_type": "true or false",
    "string_type": "text", "dict_type": "a table", "dataclass_type": "a table", "list_type": "an array",
    "tuple_type": "an array",
}


def field_name(location: Sequence[str | int]) -> str:
    """A validation error's location as the TOML path a user writes: ``files[0].name``."""
    name = ""
    for part in location:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def problem(error: dict[str, Any]) -> str:
    """One pydantic error as the end of a sentence: "is missing", "must be an integer, not 'x'"."""
    kind, given = error["type"], error.get("input")
    if kind == "missing":
        return "is missing"
    if kind in ("extra_forbidden", "unexpected_keyword_argument"):
        return "is not a known field (a typo?)"
    if kind in _EXPECTED:
        return f"must be {_EXPECTED[kind]}, not {given!r}"
    if kind == "value_error":
        return str(error["msg"]).removeprefix("Value error, ")
    message = str(error["msg"]).replace("Input should be", "must be").replace("String should", "must")
    return f"{message}, not {given!r}"


def describe(error: ValidationError, *, prefix: str = "") -> str:
    """The first problem of ``error`` as "field 'x.y' problem"."""
    first = error.errors()[0]
    return f"field '{prefix}{field_name(first['loc'])}' {problem(first)}"


def validate_document(schema: type[T], data: dict[str, Any], *, where: str, error: type[Exception]) -> T:
    """``data`` (a parsed TOML document) as ``schema``; a problem raises ``error("<where>: field … .")``."""
    try:
        return TypeAdapter(schema).validate_json(json.dumps(data, default=str), strict=True)
    except ValidationError as exc:
        raise error(f"{where}: {describe(exc)}.") from None
