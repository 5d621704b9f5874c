"""The error answers of the API in OpenAPI terms: problem details as ``server/errors.py`` sends them.

``Problem`` is the body of every error (RFC 9457 plus the catalogue ``code``); ``<Status>Problem``
narrows it to one HTTP status and the catalogue codes that status carries, so a client generated from
the document knows, per operation and status, which codes it must handle. Codes and titles come from
``CATALOGUE``: a code added there is in the document without an edit here.

A handler lists the error statuses its service can answer with ``responses=problems(404, 409)``;
``server.openapi_document`` adds the ones every operation of a kind shares (401 behind the device
token, 413 with a body, 429 where a rate limit applies, 500/503 everywhere) and fills in every error
response's content.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from litestar.openapi import ResponseSpec

from server.errors import CATALOGUE

MEDIA_TYPE = "application/problem+json"


def codes(status: int) -> list[str]:
    """The catalogue codes answered with ``status``."""
    return sorted(code for code, entry in CATALOGUE.items() if entry.status == status)


def name(status: int) -> str:
    """The component of one status's problem: 404 → ``Problem404`` (by number: the phrases differ between
    Python versions, and a generated client's type names should not)."""
    return f"Problem{status}"


def description(status: int) -> str:
    return "; ".join(f"`{code}`: {CATALOGUE[code].title}" for code in codes(status)) or HTTPStatus(status).phrase


def problem_schema() -> dict[str, Any]:
    """The body ``server.errors.problem`` builds, for any status."""
    return {
        "title": "Problem",
        "description": "Problem details (RFC 9457). Branch on `code`, never on the text; `detail` says in plain "
                       "words what is wrong; `errors` lists the invalid parameters or fields, when known.",
        "type": "object",
        "properties": {
            "type": {"type": "string", "format": "uri", "description": "Names the code: …/errors/<code>"},
            "title": {"type": "string", "description": "The code's title (English, for developers)"},
            "status": {"type": "integer", "description": "The HTTP status, repeated"},
            "detail": {"type": "string"},
            "code": {"type": "string", "enum": sorted(CATALOGUE), "description": "The error's code from the catalogue"},
            "errors": {"type": "array", "items": {"type": "object"}},
        },
        "required": ["type", "title", "status", "detail", "code"],
    }


def status_schema(status: int) -> dict[str, Any]:
    """``Problem`` with this status and its codes (whole, not as ``allOf``: client generators merge
    ``integer`` and a constant badly)."""
    schema = problem_schema()
    schema["title"], schema["description"] = name(status), f"{schema['description']} {description(status)}."
    schema["properties"]["status"] = {"type": "integer", "const": status}
    if codes(status):
        schema["properties"]["code"] = {"type": "string", "enum": codes(status)}
    return schema


def statuses() -> list[int]:
    """Every status a problem can carry: the catalogue's."""
    return sorted({entry.status for entry in CATALOGUE.values()})


def problems(*answered: int) -> dict[int, ResponseSpec]:
    """``responses=`` for a handler whose service answers these error statuses; the content (the
    problem schema of each status) is filled in by ``server.openapi_document``."""
    unknown = set(answered) - set(statuses())
    if unknown:
        raise ValueError(f"no catalogue code has status {sorted(unknown)}")
    return {status: ResponseSpec(None, description=description(status), media_type=MEDIA_TYPE)
            for status in answered}
