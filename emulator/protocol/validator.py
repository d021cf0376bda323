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


_MATCHED: dict[tuple[str, str], bool] = {}
_MATCHED_MAX = 8192  # remembered (pattern, short value) results; cleared when full
_MATCHED_VALUE_CHARS = 256


def _matches(pattern: str, compiled: regex.Pattern, value: str) -> bool:
    """``compiled.fullmatch(value)``, remembered for short values (names, ids, content types
    repeat on every request of a hot path)."""
    if len(value) > _MATCHED_VALUE_CHARS:
        return compiled.fullmatch(value) is not None
    key = (pattern, value)
    known = _MATCHED.get(key)
    if known is None:
        known = compiled.fullmatch(value) is not None
        if len(_MATCHED) >= _MATCHED_MAX:
            _MATCHED.clear()
        _MATCHED[key] = known
    return known


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


# A path is built lazily, only when a violation names it: None is the input itself, else
# (parent path, member name in camelCase) or (parent path, key or 1-based index, suffix).
Path = Any


def _render(path: Path) -> str:
    parts: list[str] = []
    while path is not None:
        if len(path) == 2:
            parts.append(path[1])
        else:
            parts.append(f"{path[1]}.{path[2]}")
        path = path[0]
    return ".".join(reversed(parts))


class _Plan:
    """What validation needs of one shape, read from botocore's model once per process."""

    __slots__ = ("shape", "kind", "walker", "document", "low", "high", "enum", "enum_text", "pattern",
                 "compiled", "name", "members", "required")

    def __init__(self, shape: Shape) -> None:
        self.shape = shape  # keeps the shape alive while its plan is cached under id(shape)
        self.kind = shape.type_name
        self.walker = _WALKERS.get(self.kind)
        self.document = bool(getattr(shape, "is_document_type", False))
        metadata = shape.metadata
        self.low, self.high = metadata.get("min"), metadata.get("max")
        enum = getattr(shape, "enum", None) or []
        self.enum = frozenset(enum)
        self.enum_text = ", ".join(enum)
        self.pattern = metadata.get("pattern")
        self.compiled = _compiled(self.pattern) if self.pattern is not None else None
        self.name = shape.name
        if self.kind == "structure":
            self.members = tuple((name, member, _camel(name)) for name, member in shape.members.items())
            self.required = tuple((name, _camel(name)) for name in shape.required_members)
        else:
            self.members = ()
            self.required = ()


_PLANS: dict[int, _Plan] = {}


def _plan(shape: Shape) -> _Plan:
    plan = _PLANS.get(id(shape))
    if plan is None or plan.shape is not shape:
        plan = _PLANS[id(shape)] = _Plan(shape)
    return plan


class _Walker:
    def __init__(self, blob_base64: bool, unchecked_patterns: frozenset[str]) -> None:
        self.blob_base64 = blob_base64
        self.unchecked_patterns = unchecked_patterns
        self.problems: list[str] = []

    def fail(self, value: Any, path: Path, constraint: str) -> None:
        self.problems.append(f"Value {_repr(value)} at '{_render(path)}' failed to satisfy constraint: {constraint}")

    def walk(self, shape: Shape, value: Any, path: Path) -> Any:
        plan = _plan(shape)
        if plan.document or plan.walker is None:
            return value
        return plan.walker(self, plan, value, path)

    def _walk_structure(self, plan: _Plan, value: Any, path: Path) -> Any:
        if not isinstance(value, dict):
            self.fail(value, path, "Member must be a structure")
            return value
        result: dict[str, Any] = {}
        for name, camel in plan.required:
            if value.get(name) is None:
                self.fail(None, (path, camel), "Member must not be null")
        for name, member, camel in plan.members:
            item = value.get(name)
            if item is not None:
                inner = _plan(member)  # walk() inlined: this loop is the hot path of every request
                result[name] = item if inner.document or inner.walker is None else \
                    inner.walker(self, inner, item, (path, camel))
        return result

    def _walk_list(self, plan: _Plan, value: Any, path: Path) -> Any:
        if not isinstance(value, list):
            self.fail(value, path, "Member must be a list")
            return value
        self._length(plan, len(value), value, path)
        member = plan.shape.member
        return [self.walk(member, item, (path, i + 1, "member")) for i, item in enumerate(value)]

    def _walk_map(self, plan: _Plan, value: Any, path: Path) -> Any:
        if not isinstance(value, dict):
            self.fail(value, path, "Member must be a map")
            return value
        self._length(plan, len(value), value, path)
        key_plan, value_plan = _plan(plan.shape.key), _plan(plan.shape.value)
        check_key = None if key_plan.document else key_plan.walker
        check_value = None if value_plan.document else value_plan.walker
        result = {}
        for key, item in value.items():
            if check_key is not None:
                check_key(self, key_plan, key, (path, key, "key"))
            if item is None:
                result[key] = None
            else:
                result[key] = item if check_value is None else check_value(self, value_plan, item, (path, key, "value"))
        return result

    def _walk_string(self, plan: _Plan, value: Any, path: Path) -> Any:
        if not isinstance(value, str):
            self.fail(value, path, "Member must be of type string")
            return value
        if plan.low is not None or plan.high is not None:
            self._length(plan, len(value), value, path)
        if plan.enum and value not in plan.enum:
            self.fail(value, path, f"Member must satisfy enum value set: [{plan.enum_text}]")
        if plan.compiled is not None and plan.name not in self.unchecked_patterns \
                and not _matches(plan.pattern, plan.compiled, value):
            self.fail(value, path, f"Member must satisfy regular expression pattern: {plan.pattern}")
        return value

    def _walk_integer(self, plan: _Plan, value: Any, path: Path) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            else:
                self.fail(value, path, "Member must be of type integer")
                return value
        bound = 2 ** 31 if plan.kind == "integer" else 2 ** 63  # Java int / long
        if not -bound <= value < bound:
            self.fail(value, path, f"Member must have value {'less than or equal to ' + str(bound - 1) if value > 0 else 'greater than or equal to ' + str(-bound)}")
            return value
        self._range(plan, value, path)
        return value

    def _walk_float(self, plan: _Plan, value: Any, path: Path) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(value, path, "Member must be of type number")
            return value
        self._range(plan, value, path)
        return value

    def _walk_boolean(self, plan: _Plan, value: Any, path: Path) -> Any:
        if not isinstance(value, bool):
            self.fail(value, path, "Member must be of type boolean")
        return value

    def _walk_timestamp(self, plan: _Plan, value: Any, path: Path) -> Any:
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

    def _walk_blob(self, plan: _Plan, value: Any, path: Path) -> Any:
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
        self._length(plan, len(data), "***", path)
        return data

    def _length(self, plan: _Plan, length: int, value: Any, path: Path) -> None:
        low, high = plan.low, plan.high
        shown = value if plan.kind == "string" else "***" if plan.kind == "blob" else value
        if low is not None and length < low:
            self.fail(shown, path, f"Member must have length greater than or equal to {int(low)}")
        if high is not None and length > high:
            self.fail(shown, path, f"Member must have length less than or equal to {int(high)}")

    def _range(self, plan: _Plan, value: float, path: Path) -> None:
        low, high = plan.low, plan.high
        if low is not None and value < low:
            self.fail(value, path, f"Member must have value greater than or equal to {_num(low)}")
        if high is not None and value > high:
            self.fail(value, path, f"Member must have value less than or equal to {_num(high)}")


_WALKERS = {"structure": _Walker._walk_structure, "list": _Walker._walk_list, "map": _Walker._walk_map,
            "string": _Walker._walk_string, "integer": _Walker._walk_integer, "long": _Walker._walk_integer,
            "float": _Walker._walk_float, "double": _Walker._walk_float, "boolean": _Walker._walk_boolean,
            "timestamp": _Walker._walk_timestamp, "blob": _Walker._walk_blob}


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
    result = walker.walk(shape, params, None)
    if walker.problems:
        raise ValidationFailed(walker.problems)
    return result
