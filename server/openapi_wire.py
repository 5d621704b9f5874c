"""The sync wire schema as OpenAPI component schemas, made by msgspec from the structs the server decodes with.

Litestar describes only the types its handlers name, and push reads its body by hand, so without these
``/schema`` would say that a mutation's ``changes`` is any object. Here every table of ``sync/records.py``
gets a component: ``<Table>Changes`` (the fields a client may send, each optional, as in an update or a
delete) and ``<Table>CreateChanges`` (the same with the fields required on create), and the push
envelope (``PushRequest``, ``CreateMutation``, ``UpdateMutation``, ``DeleteMutation``) ties ``changes``
to ``table``. Everything is derived from ``TABLES`` and the protocol structs: a field, limit or table
added there appears here without an edit.

``server.openapi_document`` adds them to the document's components, next to Litestar's own.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import msgspec

from sync.protocol import Create, Delete, PushRequest, Update
from sync.records import TABLES, TableSpec

REF = "#/components/schemas/{name}"
MUTATIONS = {Create: "CreateMutation", Update: "UpdateMutation", Delete: "DeleteMutation"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(name=name)}


def changes_name(table: str) -> str:
    """The component of one table's ``changes``: ``pengkajian`` → ``PengkajianChanges``."""
    return f"{table.title().replace('_', '')}Changes"


def create_changes_name(table: str) -> str:
    return f"{table.title().replace('_', '')}CreateChanges"


def _describe(table: str, spec: TableSpec) -> str:
    lines = [f"The fields of a `{table}` record a client may send (sync/records.py); each is optional in an "
             "update, and a field not sent is left as it is. Unknown fields are refused."]
    if spec.required:
        lines.append(f"Required when creating: {', '.join(sorted(spec.required))} "
                     f"(`{create_changes_name(table)}`).")
    lines.append("`desa_code` is the cadre's own desa when left out; an admin creating a record must name it, "
                 "and it never changes afterwards.")
    for field, target in spec.references:
        lines.append(f"`{field}` names a `{target}` record of the same desa.")
    if spec.admin_only:
        lines.append("Kept by the kecamatan admin: a cadre's mutation of this table is rejected `forbidden`.")
    if spec.append_only:
        lines.append("Append-only: rows are added, never edited (an update with changes is rejected `append_only`).")
    lines.append("Text may hold any character but NUL (U+0000).")
    return " ".join(lines)


def _renamed(node: Any, names: dict[str, str]) -> Any:
    """``node`` with every reference to a component in ``names`` pointing at its new name."""
    text = json.dumps(node)
    for old, new in names.items():
        text = text.replace(f'"{REF.format(name=old)}"', f'"{REF.format(name=new)}"')
    return json.loads(text)


def _table_schemas() -> dict[str, dict[str, Any]]:
    structs = [spec.fields for spec in TABLES.values()]
    _, components = msgspec.json.schema_components(structs, ref_template=REF)
    names = {spec.fields.__name__: changes_name(table) for table, spec in TABLES.items()}
    components = _renamed(components, names)
    schemas: dict[str, dict[str, Any]] = {}
    for table, spec in TABLES.items():
        changes = components.pop(spec.fields.__name__)
        changes.pop("required", None)  # always empty: every field defaults to UNSET
        changes["title"] = changes_name(table)
        changes["description"] = _describe(table, spec)
        schemas[changes_name(table)] = changes
        create = {"title": create_changes_name(table), "allOf": [ref(changes_name(table))],
                  "description": f"`changes` of a `{table}` create: {changes_name(table)} with the fields "
                                 "required on create."}
        if spec.required:
            create["required"] = sorted(spec.required)
        schemas[create_changes_name(table)] = create
    return {**components, **schemas}  # components left: the enums and nested structs the tables use


def _per_table(op: type[msgspec.Struct]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``changes`` of one kind of mutation: one of the tables' schemas, and which one by ``table``."""
    name = create_changes_name if op is Create else changes_name
    tables = sorted(TABLES)
    changes = {"anyOf": [ref(name(t)) for t in tables],
               "description": "The fields this mutation sets, as the schema of its `table`: "
                              + ", ".join(f"`{t}` → {name(t)}" for t in tables) + "."}
    tie = [{"if": {"properties": {"table": {"const": t}}, "required": ["table"]},
            "then": {"properties": {"changes": ref(name(t))}}} for t in tables]
    return changes, tie


def _push_schemas() -> dict[str, dict[str, Any]]:
    _, components = msgspec.json.schema_components([PushRequest], ref_template=REF)
    names = {op.__name__: doc for op, doc in MUTATIONS.items()}
    components = _renamed(components, names)
    for op, doc in MUTATIONS.items():
        mutation = components.pop(op.__name__)
        changes, tie = _per_table(op)
        default = mutation["properties"]["changes"].get("default")
        mutation["properties"]["changes"] = {**changes, **({"default": default} if default is not None else {})}
        mutation["properties"]["table"] = {"enum": sorted(TABLES), "description": "The table the record is in."}
        mutation["allOf"] = tie
        mutation["title"] = doc
        components[doc] = mutation
    return components


@cache
def wire_schemas() -> dict[str, dict[str, Any]]:
    """Every component schema of the sync wire format, by name."""
    return {**_table_schemas(), **_push_schemas()}
