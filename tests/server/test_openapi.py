"""``/schema/openapi.json`` says what the code does: ``changes`` per table as ``sync/records.py`` has them,
every error as the problem details ``server/errors.py`` sends, the device token where the middleware asks
for it. Read from the app itself, no database; the answers of the live server are checked against the
same document by tests/server/test_schemathesis.py, and a client generated from it is used in
tests/server/test_openapi_client.py.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import jsonschema_rs
import msgspec
import pytest
from openapi_spec_validator import validate

from server.app import create_app
from server.auth.middleware import PUBLIC_PATHS
from server.errors import CATALOGUE
from sync.records import TABLES, FieldError, parse_changes

METHODS = ("get", "put", "post", "delete", "patch", "head")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app().openapi_schema.to_schema()


@pytest.fixture(scope="module")
def schemas(document: dict[str, Any]) -> dict[str, Any]:
    return document["components"]["schemas"]


def validator(document: dict[str, Any], name: str) -> jsonschema_rs.Validator:
    """A validator of one component, its references resolved within the document."""
    return jsonschema_rs.validator_for({"$ref": f"#/components/schemas/{name}", "components": document["components"]})


def camel(table: str) -> str:
    return table.title().replace("_", "")


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, item[method]) for path, item in document["paths"].items()
            for method in METHODS if method in item]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


@pytest.mark.parametrize("table", sorted(TABLES))
def test_each_tables_changes_are_the_fields_records_py_accepts(schemas: dict[str, Any], table: str) -> None:
    spec = TABLES[table]
    fields = {f.name for f in msgspec.structs.fields(spec.fields)}
    changes, create = schemas[f"{camel(table)}Changes"], schemas[f"{camel(table)}CreateChanges"]
    assert set(changes["properties"]) == fields
    assert changes["additionalProperties"] is False
    assert "required" not in changes  # an update sends only what changed
    assert changes["properties"] == create["properties"]
    assert create["required"] == sorted(spec.required)
    assert create["additionalProperties"] is False


def test_limits_are_the_ones_records_py_sets(schemas: dict[str, Any]) -> None:
    musyawarah = schemas["MusyawarahChanges"]["properties"]
    assert musyawarah["tempat"] == {"type": "string", "maxLength": 200}
    assert musyawarah["narasumber"]["maxItems"] == 50
    assert musyawarah["narasumber"]["items"] == {"$ref": "#/components/schemas/Narasumber"}
    assert schemas["Narasumber"]["required"] == ["nama"]
    kader = schemas["KaderChanges"]["properties"]
    assert kader["nama"] == {"type": "string", "minLength": 1, "maxLength": 120}
    assert kader["peran"] == {"type": "array", "items": {"type": "string", "maxLength": 200}, "maxItems": 20}
    skor_parah = schemas["PengkajianChanges"]["properties"]["skor_parah"]["anyOf"]
    assert {"type": "integer", "minimum": 0, "maximum": 10} in skor_parah and {"type": "null"} in skor_parah
    assert set(schemas["JenisKelamin"]["enum"]) == {"L", "P"}


def boundaries(prop: dict[str, Any], schemas: dict[str, Any]) -> list[tuple[Any, bool]]:
    """Values just inside and just outside each limit the document states for one field."""
    branches = [b for b in prop.get("anyOf", [prop]) if b.get("type") != "null"]
    cases: list[tuple[Any, bool]] = []
    for branch in branches:
        if "$ref" in branch:
            branch = schemas[branch["$ref"].rsplit("/", 1)[1]]
        if "enum" in branch:
            cases += [(value, True) for value in branch["enum"]] + [("bukan-pilihan", False)]
        kind = branch.get("type")
        if kind == "string" and "maxLength" in branch and "pattern" not in branch and "format" not in branch:
            cases += [("a" * branch["maxLength"], True), ("a" * (branch["maxLength"] + 1), False)]
        if kind == "string" and branch.get("minLength") == 1:
            cases += [("", False)]
        if kind in ("integer", "number"):
            step = 1 if kind == "integer" else 0.5
            if "minimum" in branch:
                cases += [(branch["minimum"], True), (branch["minimum"] - step, False)]
            if "maximum" in branch:
                cases += [(branch["maximum"], True), (branch["maximum"] + step, False)]
        items = branch.get("items", {})
        if kind == "array" and "maxItems" in branch and items.get("type") == "string" and "pattern" not in items:
            cases += [(["a"] * branch["maxItems"], True), (["a"] * (branch["maxItems"] + 1), False)]
    return cases


@pytest.mark.parametrize("table", sorted(TABLES))
def test_the_server_draws_every_stated_limit_where_the_document_does(
        document: dict[str, Any], schemas: dict[str, Any], table: str) -> None:
    check = validator(document, f"{camel(table)}Changes")
    tried = 0
    for field, prop in schemas[f"{camel(table)}Changes"]["properties"].items():
        for value, fits in boundaries(prop, schemas):
            try:
                parse_changes(table, {field: value})
                accepted = True
            except FieldError:
                accepted = False
            said = "took" if accepted else "refused"
            assert accepted == fits, f"{table}.{field} = {value!r:.40}: the server {said} it"
            assert check.is_valid({field: value}) == fits, f"{table}.{field} = {value!r:.40}: the document disagrees"
            tried += 1
    assert tried >= 4


def test_a_mutation_is_one_schema_per_table_and_operation(document: dict[str, Any], schemas: dict[str, Any]) -> None:
    variants = schemas["PushRequest"]["properties"]["mutations"]["items"]["oneOf"]
    names = {v["$ref"].rsplit("/", 1)[1] for v in variants}
    assert names == {f"{camel(t)}{op.title()}Mutation" for t in TABLES for op in ("create", "update", "delete")}
    for table in TABLES:
        create = schemas[f"{camel(table)}CreateMutation"]["properties"]
        assert create["table"]["const"] == table and create["op"]["const"] == "create"
        assert create["changes"] == {"$ref": f"#/components/schemas/{camel(table)}CreateChanges"}
        assert schemas[f"{camel(table)}UpdateMutation"]["properties"]["changes"] == {
            "$ref": f"#/components/schemas/{camel(table)}Changes"}
    push = validator(document, "PushRequest")

    def body(*mutations: dict[str, Any]) -> dict[str, Any]:
        return {"client_id": str(uuid.uuid4()), "protocol_version": 1, "app_version": "t", "mutations": list(mutations)}

    def mutation(op: str, table: str, changes: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"op": op, "mutation_id": str(uuid.uuid4()), "seq": 1, "table": table, "record_id": str(uuid.uuid4()),
                "changes": changes, **extra}

    assert push.is_valid(body(mutation("create", "pengkajian", {"jenis": "masalah", "uraian": "Banjir"}),
                              mutation("update", "musyawarah", {"tempat": "Balai desa"}, base_version=1)))
    # changes follow the schema of the mutation's own table, and a create carries the required fields
    assert not push.is_valid(body(mutation("update", "pengkajian", {"tempat": "Balai desa"}, base_version=1)))
    assert not push.is_valid(body(mutation("create", "pengkajian", {"uraian": "Banjir"})))
    assert not push.is_valid(body(mutation("update", "pengkajian", {"uraian": "x"})))  # no base_version
    assert not push.is_valid(body(mutation("create", "rapat", {})))


def test_every_catalogue_code_is_in_the_problem_of_its_status(schemas: dict[str, Any]) -> None:
    assert set(schemas["Problem"]["properties"]["code"]["enum"]) == set(CATALOGUE)
    for code, entry in CATALOGUE.items():
        problem = schemas[f"Problem{entry.status}"]["properties"]
        assert code in problem["code"]["enum"], code
        assert problem["status"]["const"] == entry.status
    assert schemas["Problem"]["required"] == ["type", "title", "status", "detail", "code"]


def test_every_error_answer_is_problem_details_of_its_status(document: dict[str, Any]) -> None:
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            content = response["content"]
            if path.startswith("/api/health") and status == "503" and "application/json" in content:
                assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Health"}
                continue  # not ready: the health report itself
            assert list(content) == ["application/problem+json"], (method, path, status)
            assert content["application/problem+json"]["schema"] == {"$ref": f"#/components/schemas/Problem{status}"}
        assert {"500", "503"} <= set(operation["responses"]), (method, path)


def test_the_device_token_is_asked_where_the_middleware_asks_for_it(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"]["deviceToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, method, operation in operations(document):
        public = any(re.match(p, path) for p in PUBLIC_PATHS)
        assert ("security" not in operation) == public, (method, path)
        if not public:
            assert operation["security"] == [{"deviceToken": []}]
            assert "401" in operation["responses"], (method, path)
        if "requestBody" in operation:
            assert "413" in operation["responses"], (method, path)


def test_the_pulls_parameters_are_described(document: dict[str, Any]) -> None:
    parameters = {p["name"]: p for p in document["paths"]["/api/sync/pull"]["get"]["parameters"]}
    for name in ("cursor", "limit", "protocol_version", "client_id"):
        assert parameters[name]["description"], name
    assert parameters["limit"]["schema"]["maximum"] == 1000 and parameters["limit"]["schema"]["minimum"] == 1
    assert parameters["client_id"]["schema"]["oneOf"][0]["format"] == "uuid"
    assert set(document["paths"]["/api/sync/pull"]["get"]["responses"]) >= {"410", "426"}
