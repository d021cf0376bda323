"""Server-side validation of a parsed request against its botocore input shape.

Checks required members, JSON types, enums, string/blob/list/map lengths, numeric
ranges and regular-expression patterns, collecting every violation like AWS's
Coral frameworks do ("2 validation errors detected: Value ... at 'a.b' failed to
satisfy constraint: ..."). It also coerces wire values to Python ones: timestamps
become ``datetime`` and JSON blobs become ``bytes``. Unknown members are dropped.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
from typing import Any

import regex
from botocore.model import Shape

from emulator.protocol.limits import VALUE_CHARS, shorten

_MISSING = object()


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> regex.Pattern | None:
    try:
        return regex.compile(pattern, regex.V0)
    except regex.error:
        return None  # a Java-only construct: skip rather than reject valid input


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _repr(value: Any) -> str:
    """The value as AWS quotes it, cut to a short prefix (never a whole large value)."""
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        return shorten(json.dumps(value, default=str)[:VALUE_CHARS * 2])
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10 ** VALUE_CHARS:
        return "(a number of more than 128 digits)"
    text = value if isinstance(value, str) else str(value)
    return f"'{shorten(text)}'" if isinstance(value, str) else shorten(text)


class _Walker:
    def __init__(self, blob_base64: bool, unchecked_patterns: frozenset[str]) -> None:
        self.blob_base64 = blob_base64
        self.unchecked_patterns = unchecked_patterns
        self.problems: list[str] = []

    def fail(self, value: Any, path: str, constraint: str) -> None:
        self.problems.append(f"Value {_repr(value)} at '{path}' failed to satisfy constraint: {constraint}")

    def walk(self, shape: Shape, value: Any, path: str) -> Any:
        kind = shape.type_name
        if getattr(shape, "is_document_type", False):
            return value
        handler = getattr(self, f"_walk_{kind}", None)
        return handler(shape, value, path) if handler else value

    def _walk_structure(self, shape: Shape, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            self.fail(value, path, "Member must be a structure")
            return value
        result: dict[str, Any] = {}
        for name in shape.required_members:
            if value.get(name) is None:
                self.fail(None, self._join(path, name), "Member must not be null")
        for name, member in shape.members.items():
            if name in value and value[name] is not None:
                result[name] = self.walk(member, value[name], self._join(path, name))
        return result

    @staticmethod
    def _join(path: str, name: str) -> str:
        return f"{path}.{_camel(name)}" if path else _camel(name)

    def _walk_list(self, shape: Shape, value: Any, path: str) -> Any:
        if not isinstance(value, list):
            self.fail(value, path, "Member must be a list")
            return value
        self._length(shape, len(value), value, path)
        return [self.walk(shape.member, item, f"{path}.{i + 1}.member") for i, item in enumerate(value)]

    def _walk_map(self, shape: Shape, value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            self.fail(value, path, "Member must be a map")
            return value
        self._length(shape, len(value), value, path)
        result = {}
        for key, item in value.items():
            self.walk(shape.key, key, f"{path}.{key}.key")
            result[key] = self.walk(shape.value, item, f"{path}.{key}.value") if item is not None else None
        return result

    def _walk_string(self, shape: Shape, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            self.fail(value, path, "Member must be of type string")
            return value
        self._length(shape, len(value), value, path)
        if shape.enum and value not in shape.enum:
            self.fail(value, path, f"Member must satisfy enum value set: [{', '.join(shape.enum)}]")
        pattern = shape.metadata.get("pattern")
        if pattern is not None and shape.name not in self.unchecked_patterns:
            compiled = _compiled(pattern)
            if compiled is not None and compiled.fullmatch(value) is None:
                self.fail(value, path, f"Member must satisfy regular expression pattern: {pattern}")
        return value

    def _walk_integer(self, shape: Shape, value: Any, path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                self.fail(value, path, "Member must be of type integer")
                return value
        bound = 2 ** 31 if shape.type_name == "integer" else 2 ** 63  # Java int / long
        if not -bound <= value < bound:
            self.fail(value, path, f"Member must have value {'less than or equal to ' + str(bound - 1) if value > 0 else 'greater than or equal to ' + str(-bound)}")
            return value
        self._range(shape, value, path)
        return value

    _walk_long = _walk_integer

    def _walk_float(self, shape: Shape, value: Any, path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(value, path, "Member must be of type number")
            return value
        self._range(shape, value, path)
        return value

    _walk_double = _walk_float

    def _walk_boolean(self, shape: Shape, value: Any, path: str) -> Any:
        if not isinstance(value, bool):
            self.fail(value, path, "Member must be of type boolean")
        return value

    def _walk_timestamp(self, shape: Shape, value: Any, path: str) -> Any:
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return dt.datetime.fromtimestamp(value, tz=dt.timezone.utc)
        if isinstance(value, str):
            try:
                return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                try:
                    return dt.datetime.fromtimestamp(float(value), tz=dt.timezone.utc)
                except ValueError:
                    pass
        self.fail(value, path, "Member must be a timestamp")
        return value

    def _walk_blob(self, shape: Shape, value: Any, path: str) -> Any:
        if isinstance(value, (bytes, bytearray)):
            data = bytes(value)
        elif isinstance(value, str) and self.blob_base64:
            try:
                data = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                self.fail("***", path, "Member must be base64-encoded binary data")
                return value
        else:
            self.fail(value, path, "Member must be binary data")
            return value
        self._length(shape, len(data), "***", path)
        return data

    def _length(self, shape: Shape, length: int, value: Any, path: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        shown = value if shape.type_name == "string" else "***" if shape.type_name == "blob" else value
        if low is not None and length < low:
            self.fail(shown, path, f"Member must have length greater than or equal to {int(low)}")
        if high is not None and length > high:
            self.fail(shown, path, f"Member must have length less than or equal to {int(high)}")

    def _range(self, shape: Shape, value: float, path: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            self.fail(value, path, f"Member must have value greater than or equal to {_num(low)}")
        if high is not None and value > high:
            self.fail(value, path, f"Member must have value less than or equal to {_num(high)}")


def _num(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


class ValidationFailed(Exception):
    """Input violates the model; ``message`` is AWS's multi-violation text."""

    def __init__(self, problems: list[str]) -> None:
        count = len(problems)
        noun = "error" if count == 1 else "errors"
        super().__init__(f"{count} validation {noun} detected: " + "; ".join(problems))
        self.problems = problems


def validate(shape: Shape | None, params: dict[str, Any], blob_base64: bool = True,
             unchecked_patterns: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Validate ``params`` against ``shape`` and return the coerced copy.

    ``unchecked_patterns`` names shapes whose pattern is not enforced. Raises
    ``ValidationFailed`` listing every violation.
    """
    if shape is None:
        return {}
    walker = _Walker(blob_base64, unchecked_patterns)
    result = walker.walk(shape, params, "")
    if walker.problems:
        raise ValidationFailed(walker.problems)
    return result
