"""OpenAPI descriptions of the attribute payloads, generated from the attribute table.

The `data` objects of models and batteries are open-ended dicts to DRF, but their accepted shape
is fully known (one property per attribute, with its value kind), so the schema says so.
"""

from __future__ import annotations

from typing import Any

from passport.attributes import ATTRIBUTES, DOCUMENT_FIELDS, Attribute, Entry, Level

IDENTITY_SCHEMA: dict[str, dict[str, Any]] = {
    "identifier": {
        "type": "string",
        "description": "ISO/IEC 15459 identifier, or a GS1 element string (01)<GTIN>(21)<serial>; "
        "omit when gtin and serial are given.",
    },
    "gtin": {"type": "string", "description": "GTIN-8/12/13/14 with a valid check digit."},
    "serial": {"type": "string", "description": "Serial number (GS1 AI 21) with a GTIN."},
    "batch": {"type": "string", "description": "Batch / lot (GS1 AI 10)."},
}


def openapi_30(schema: Any) -> Any:
    """The value kinds describe themselves in current JSON Schema; OpenAPI 3.0 still spells an
    exclusive bound as `minimum: x, exclusiveMinimum: true`."""
    if isinstance(schema, list):
        return [openapi_30(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    converted = {key: openapi_30(value) for key, value in schema.items()}
    for bound, flag in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        value = converted.get(flag)
        if isinstance(value, int | float) and not isinstance(value, bool):
            converted[bound] = value
            converted[flag] = True
    return converted


def attribute_schema(attribute: Attribute) -> dict[str, Any]:
    schema = openapi_30(attribute.kind.json_schema())
    unit = f" [{attribute.unit}]" if attribute.unit else ""
    schema["description"] = (
        f"#{attribute.number} {attribute.name}{unit}; readable by tier '{attribute.tier}'"
        + (f"; {attribute.regulation}" if attribute.regulation else "")
    )
    return schema


def nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """The value, or null: a document shows null for a value not given yet, and an update's null
    removes an optional value."""
    return {**schema, "nullable": True}


def writable(attribute: Attribute, level: Level) -> bool:
    if attribute.entry is Entry.SYSTEM:
        return False
    if level is Level.MODEL:
        return attribute.level is Level.MODEL or attribute.model_default
    return attribute.level is Level.ITEM


def data_schema(level: Level) -> dict[str, Any]:
    return {
        "type": "object",
        "description": f"{level.value.title()}-level attribute values keyed by attribute key; "
        "null removes an optional value in an update.",
        "properties": {a.key: nullable(attribute_schema(a)) for a in ATTRIBUTES if writable(a, level)},
        "additionalProperties": False,
    }


MODEL_DATA_SCHEMA = data_schema(Level.MODEL)
ITEM_DATA_SCHEMA = data_schema(Level.ITEM)

BATTERY_ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "One battery: its identity (identifier, or gtin + serial) and its item-level "
    "attribute values, in one flat object.",
    "properties": {**IDENTITY_SCHEMA, **ITEM_DATA_SCHEMA["properties"]},
    "required": ["manufacturing_date"],
    "additionalProperties": False,
}

# A passport document is filtered per reader, so every property is optional; a value not given
# yet is null.
DOCUMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The passport as the caller may see it: one key per attribute (and identity / "
    "versioning fields); keys the caller's access tiers do not cover are absent.",
    "properties": {
        **{field.key: {"description": f"{field.name}; tier '{field.tier}'"} for field in DOCUMENT_FIELDS},
        **{a.key: nullable(attribute_schema(a)) for a in ATTRIBUTES},
    },
}


# Text may hold any character but NUL: PostgreSQL stores none, so every text input refuses it.
NO_NUL_PATTERN = "^[^\\u0000]*$"


def strings_without_nul(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: say of every free text in the schema (a string
    without a format, an enumeration or a pattern of its own) that it holds no NUL character, as
    the API's checks refuse it."""
    pending: list[Any] = [result]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            if node.get("type") == "string" and not {"format", "enum", "pattern"} & node.keys():
                node["pattern"] = NO_NUL_PATTERN
            pending.extend(node.values())
    return result
