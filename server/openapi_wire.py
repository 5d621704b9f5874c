"""The sync wire schema as OpenAPI component schemas, made by msgspec from the structs the server decodes with.

Litestar describes only the types its handlers name, and push reads its body by hand, so without these
``/schema`` would say that a mutation's ``changes`` is any object. Here every table of ``sync/records.py``
gets ``<Table>Changes`` (the fields a client may send, each optional, as in an update or a delete) and
``<Table>CreateChanges`` (the same with the fields required on create), and the push body
(``PushRequest``) is a list of mutations each of which is one ``<Table><Op>Mutation``: ``op`` and
``table`` are constants there, so a validator checks ``changes`` against its table's schema and a client
generator makes one type per table and operation. Everything is derived from ``TABLES`` and the
protocol structs: a field, limit or table added there appears here without an edit.

Whole schemas rather than ``allOf``/``if`` compositions: client generators drop the base properties of
an object with a ``oneOf`` and do not evaluate ``if``, and test-case generators refuse ``if``.
``server.openapi_document`` adds these to the document's components, next to Litestar's own.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from typing import Any

import msgspec

from sync.protocol import Create, Delete, PushRequest, Update
from sync.records import TABLES, TableSpec

REF = "#/components/schemas/{name}"
OPS: dict[str, type[msgspec.Struct]] = {"create": Create, "update": Update, "delete": Delete}


def ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(name=name)}


def _camel(table: str) -> str:
    return table.title().replace("_", "")


def changes_name(table: str) -> str:
    """The component of one table's ``changes``: ``pengkajian`` → ``PengkajianChanges``."""
    return f"{_camel(table)}Changes"


def create_changes_name(table: str) -> str:
    return f"{_camel(table)}CreateChanges"


def mutation_name(table: str, op: str) -> str:
    """``pengkajian``, ``create`` → ``PengkajianCreateMutation``."""
    return f"{_camel(table)}{op.title()}Mutation"


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
    components = _renamed(components, {spec.fields.__name__: changes_name(t) for t, spec in TABLES.items()})
    schemas: dict[str, dict[str, Any]] = {}
    for table, spec in TABLES.items():
        changes = components.pop(spec.fields.__name__)
        changes.pop("required", None)  # always empty: every field defaults to UNSET
        changes["title"], changes["description"] = changes_name(table), _describe(table, spec)
        schemas[changes_name(table)] = changes
        create = copy.deepcopy(changes)
        create["title"] = create_changes_name(table)
        create["description"] = f"`changes` of a `{table}` create. " + changes["description"]
        if spec.required:
            create["required"] = sorted(spec.required)
        schemas[create_changes_name(table)] = create
    return {**components, **schemas}  # components left: the enums and nested structs the tables use


def _push_schemas() -> dict[str, dict[str, Any]]:
    _, components = msgspec.json.schema_components([PushRequest], ref_template=REF)
    envelopes = {op: components.pop(struct.__name__) for op, struct in OPS.items()}
    variants: dict[str, dict[str, Any]] = {}
    for table in sorted(TABLES):
        for op, envelope in envelopes.items():
            mutation = copy.deepcopy(envelope)
            properties = mutation["properties"]
            properties["op"] = {"type": "string", "const": op}
            properties["table"] = {"type": "string", "const": table}
            # (A delete's changes may be left out: msgspec's ``required`` says so already.)
            properties["changes"] = ref(create_changes_name(table) if op == "create" else changes_name(table))
            mutation["title"] = mutation_name(table, op)
            variants[mutation_name(table, op)] = mutation
    push = components.pop(PushRequest.__name__)
    push["properties"]["mutations"]["items"] = {
        "oneOf": [ref(name) for name in variants],
        "description": "One mutation: `op` and `table` say which schema its `changes` follow.",
    }
    return {**components, PushRequest.__name__: push, **variants}  # components left: structs they nest


@cache
def wire_schemas() -> dict[str, dict[str, Any]]:
    """Every component schema of the sync wire format, by name."""
    return {**_table_schemas(), **_push_schemas()}
