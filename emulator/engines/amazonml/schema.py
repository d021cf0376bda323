"""Amazon ML data schema (``DataSchema`` JSON) parsing and validation.

Both the documented key set (``rowId``, ``targetAttributeName``, ``attributes`` with
``attributeName``/``attributeType``, ``excludedAttributeNames``) and the legacy key
set shown in the API reference (``recordAnnotationFieldName``, ``targetFieldName``,
``variables`` with ``fieldName``/``fieldType``, ``excludedVariableNames``) are
accepted.  ``to_json()`` always emits the documented key set.

Decisions on unconfirmed ([U]) rules:

* legacy ``WEIGHTED_INT_SEQUENCE``/``WEIGHTED_STRING_SEQUENCE`` types map to TEXT;
* attribute names must be unique (case-sensitive) and non-empty;
* target, rowId, rowWeight and excluded names must be declared attributes;
* rowWeight must be NUMERIC; rowId, target and rowWeight must be distinct;
* ``dataFormat`` must be ``CSV`` when given; ``version`` is echoed (default "1.0");
* at least 1 and at most 1000 attributes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import EngineInputError

ATTRIBUTE_TYPES = ("BINARY", "CATEGORICAL", "NUMERIC", "TEXT")
MAX_ATTRIBUTES = 1000
_LEGACY_TYPES = {"WEIGHTED_INT_SEQUENCE": "TEXT", "WEIGHTED_STRING_SEQUENCE": "TEXT"}
MODEL_TARGET_TYPES = {"BINARY": "BINARY", "MULTICLASS": "CATEGORICAL", "REGRESSION": "NUMERIC"}


@dataclass(frozen=True)
class Attribute:
    """One column of the data: its name and Amazon ML type."""

    name: str
    type: str


@dataclass
class DataSchema:
    """A validated Amazon ML data schema."""

    attributes: list[Attribute]
    target: str | None = None
    row_id: str | None = None
    row_weight: str | None = None
    excluded: list[str] = field(default_factory=list)
    contains_header: bool = False
    version: str = "1.0"
    data_format: str = "CSV"

    @property
    def names(self) -> list[str]:
        """Attribute names in column order."""
        return [a.name for a in self.attributes]

    def type_of(self, name: str) -> str:
        """Type of the attribute ``name`` (KeyError if undeclared)."""
        return self._types[name]

    @property
    def _types(self) -> dict[str, str]:
        return {a.name: a.type for a in self.attributes}

    def feature_attributes(self) -> list[Attribute]:
        """Attributes usable as model inputs (not target/rowId/rowWeight/excluded)."""
        skip = {self.target, self.row_id, self.row_weight, *self.excluded}
        return [a for a in self.attributes if a.name not in skip]

    def to_dict(self) -> dict[str, Any]:
        """Documented key set, with ``rowId``/``rowWeight`` null when absent."""
        return {
            "version": self.version,
            "rowId": self.row_id,
            "rowWeight": self.row_weight,
            "targetAttributeName": self.target,
            "dataFormat": self.data_format,
            "dataFileContainsHeader": self.contains_header,
            "attributes": [{"attributeName": a.name, "attributeType": a.type} for a in self.attributes],
            "excludedAttributeNames": list(self.excluded),
        }

    def to_json(self) -> str:
        """Serialise with the documented (new) key set."""
        return json.dumps(self.to_dict(), indent=2)


def _opt_name(doc: dict, *keys: str) -> str | None:
    for key in keys:
        if key in doc and doc[key] is not None:
            value = doc[key]
            if not isinstance(value, str):
                raise EngineInputError(f"Schema key '{key}' must be a string, got {type(value).__name__}")
            return value if value != "" else None
    return None


def _parse_bool(value: Any, key: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise EngineInputError(f"Schema key '{key}' must be a boolean, got {value!r}")


def parse_schema(text: str) -> DataSchema:
    """Parse and validate a schema JSON document; raise EngineInputError if invalid."""
    try:
        doc = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise EngineInputError(f"DataSchema is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise EngineInputError("DataSchema must be a JSON object")
    return schema_from_dict(doc)


def schema_from_dict(doc: dict[str, Any]) -> DataSchema:
    """Validate an already-decoded schema document."""
    raw_attrs = doc.get("attributes", doc.get("variables"))
    key = "attributes" if "attributes" in doc else "variables"
    if raw_attrs is None:
        raise EngineInputError("DataSchema must contain 'attributes'")
    if not isinstance(raw_attrs, list):
        raise EngineInputError(f"Schema key '{key}' must be a list")
    if not raw_attrs:
        raise EngineInputError("DataSchema 'attributes' must declare at least one attribute")
    if len(raw_attrs) > MAX_ATTRIBUTES:
        raise EngineInputError(
            f"DataSchema declares {len(raw_attrs)} attributes; the maximum is {MAX_ATTRIBUTES}")
    attrs: list[Attribute] = []
    seen: set[str] = set()
    for i, item in enumerate(raw_attrs):
        if not isinstance(item, dict):
            raise EngineInputError(f"Schema attribute #{i + 1} must be an object")
        name = item.get("attributeName", item.get("fieldName"))
        typ = item.get("attributeType", item.get("fieldType"))
        if not isinstance(name, str) or not name.strip():
            raise EngineInputError(f"Schema attribute #{i + 1} has no 'attributeName'")
        if not isinstance(typ, str):
            raise EngineInputError(f"Schema attribute '{name}' has no 'attributeType'")
        typ = _LEGACY_TYPES.get(typ.upper(), typ.upper())
        if typ not in ATTRIBUTE_TYPES:
            raise EngineInputError(
                f"Schema attribute '{name}' has invalid attributeType '{item.get('attributeType', item.get('fieldType'))}'"
                f"; expected one of {', '.join(ATTRIBUTE_TYPES)}")
        if name in seen:
            raise EngineInputError(f"Schema attribute name '{name}' is declared more than once")
        seen.add(name)
        attrs.append(Attribute(name, typ))
    types = {a.name: a.type for a in attrs}

    target = _opt_name(doc, "targetAttributeName", "targetFieldName")
    row_id = _opt_name(doc, "rowId", "recordAnnotationFieldName")
    row_weight = _opt_name(doc, "rowWeight")
    for key_name, value in (("targetAttributeName", target), ("rowId", row_id), ("rowWeight", row_weight)):
        if value is not None and value not in types:
            raise EngineInputError(f"Schema '{key_name}' refers to undeclared attribute '{value}'")
    if row_weight is not None and types[row_weight] != "NUMERIC":
        raise EngineInputError(f"Schema 'rowWeight' attribute '{row_weight}' must be NUMERIC, not {types[row_weight]}")
    specials = [v for v in (target, row_id, row_weight) if v is not None]
    if len(specials) != len(set(specials)):
        raise EngineInputError("Schema 'targetAttributeName', 'rowId' and 'rowWeight' must name different attributes")

    excluded_raw = doc.get("excludedAttributeNames", doc.get("excludedVariableNames")) or []
    if not isinstance(excluded_raw, list) or not all(isinstance(x, str) for x in excluded_raw):
        raise EngineInputError("Schema 'excludedAttributeNames' must be a list of strings")
    for name in excluded_raw:
        if name not in types:
            raise EngineInputError(f"Schema 'excludedAttributeNames' refers to undeclared attribute '{name}'")
        if name == target:
            raise EngineInputError(f"Schema target attribute '{name}' cannot be excluded")

    fmt = doc.get("dataFormat", "CSV")
    if not isinstance(fmt, str) or fmt.upper() != "CSV":
        raise EngineInputError(f"Schema 'dataFormat' must be 'CSV', got {fmt!r}")
    header = _parse_bool(doc.get("dataFileContainsHeader", False), "dataFileContainsHeader")
    version = doc.get("version", "1.0")
    return DataSchema(attributes=attrs, target=target, row_id=row_id, row_weight=row_weight,
                      excluded=list(dict.fromkeys(excluded_raw)), contains_header=header,
                      version=str(version) if version is not None else "1.0", data_format="CSV")


def check_target_for_model_type(schema: DataSchema, model_type: str) -> None:
    """Raise EngineInputError unless the schema's target type fits ``model_type``."""
    if model_type not in MODEL_TARGET_TYPES:
        raise EngineInputError(
            f"Invalid MLModelType '{model_type}'; expected one of BINARY, MULTICLASS, REGRESSION")
    if schema.target is None:
        raise EngineInputError("The datasource schema has no 'targetAttributeName'; a target is required to train a model")
    expected = MODEL_TARGET_TYPES[model_type]
    actual = schema.type_of(schema.target)
    if actual != expected:
        raise EngineInputError(
            f"MLModelType {model_type} requires a {expected} target attribute, but target "
            f"'{schema.target}' is {actual}")
