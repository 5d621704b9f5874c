"""HTTP: ``POST /api/review`` — an admin sets the review state of records, with a note."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import post
from litestar.params import JSONBody

from server.http import DB, NO_NUL, Caller
from server.openapi_problems import problems
from server.reviews import service
from sync.vocabulary import ReviewState


class ReviewRequest(msgspec.Struct, forbid_unknown_fields=True):
    table: str
    ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=500)]
    state: ReviewState
    note: Annotated[str, msgspec.Meta(max_length=service.MAX_NOTE, pattern=NO_NUL)] = ""


@post("/review", operation_id="setReview", status_code=200, tags=["review"], responses=problems(403, 404),
      summary="Set the review state of one or many records, with a note for the cadre (admin)")
async def set_review(request: Caller, db: DB, data: JSONBody[ReviewRequest]) -> list[service.Reviewed]:
    return await service.set_review(db, request.user, data.table, data.ids, data.state, data.note)
