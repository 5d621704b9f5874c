"""The one wire schema of sync (docs/sync-protocol.md). Its constants reach the PWA through
``pwa/js/contract.js``, which ``kader contract`` generates (sync/contract.py).

Schema evolution (msgspec's rules): every field added later gets a default, and no field ever changes
type. Input structs refuse unknown fields, so a typo is an error instead of silently lost data.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import msgspec

PROTOCOL_VERSION = 1
SUPPORTED_PROTOCOLS = (1,)
MAX_MUTATIONS_PER_PUSH = 500
MAX_PULL_LIMIT = 1000

Seq = Annotated[int, msgspec.Meta(ge=0)]
Version = Annotated[int, msgspec.Meta(ge=0)]
TableName = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class _Mutation(msgspec.Struct, forbid_unknown_fields=True, tag_field="op", kw_only=True):
    mutation_id: uuid.UUID
    seq: Seq
    table: TableName
    record_id: uuid.UUID
    # The database identity the phone had synced with when it made this change: what ``base_version``
    # counts in. Absent: the server's current one (docs/sync-protocol.md, "Restored server").
    origin: uuid.UUID | None = None


class Create(_Mutation, tag="create"):
    changes: dict[str, Any]
    base_version: Version = 0


class Update(_Mutation, tag="update"):
    base_version: Version
    changes: dict[str, Any]


class Delete(_Mutation, tag="delete"):
    base_version: Version
    changes: dict[str, Any] = {}


Mutation = Create | Update | Delete


class PushRequest(msgspec.Struct, forbid_unknown_fields=True):
    client_id: uuid.UUID
    protocol_version: int
    app_version: Annotated[str, msgspec.Meta(max_length=40)]
    mutations: Annotated[list[Mutation], msgspec.Meta(max_length=MAX_MUTATIONS_PER_PUSH)]


Status = Literal["applied", "merged", "conflict", "rejected"]


class MutationResult(msgspec.Struct, omit_defaults=True):
    """``applied``: taken as sent. ``merged``: taken, combined with others' changes made since
    ``base_version``. ``conflict``: the fields in ``conflict_fields`` kept the server's value and the
    cadre's is held in conflict ``conflict_id``; other fields were taken. ``rejected``: nothing taken,
    ``error_code`` and ``reason`` say why; the rest of the batch goes on. ``field`` names the field to
    blame, when one is (``invalid_fields``, ``invalid_reference``, ``missing_fields``,
    ``immutable_field``), and ``problem`` what is wrong with it for ``invalid_fields``: ``required``,
    ``too_long``, ``range``, ``type`` or ``unknown``. ``reason`` is for developers; a phone builds the
    cadre's sentence from the codes and the field."""

    mutation_id: uuid.UUID
    record_id: uuid.UUID
    status: Status
    version: int | None = None
    conflict_fields: list[str] = []
    conflict_id: uuid.UUID | None = None
    error_code: str | None = None
    reason: str | None = None
    field: str | None = None
    problem: str | None = None


class PushResponse(msgspec.Struct):
    results: list[MutationResult]
    protocol_version: int = PROTOCOL_VERSION
    database_id: uuid.UUID | None = None  # the identity the answers belong to; a new one means a restore


class Change(msgspec.Struct):
    """One row as it is now: an upsert carries the full row; a tombstone has ``deleted`` and no row."""

    table: str
    record_id: uuid.UUID
    change_seq: int
    version: int
    deleted: bool = False
    row: dict[str, Any] | None = None


class Reference(msgspec.Struct):
    """Reference data a phone needs from its first pull on."""

    bidang: list[dict[str, Any]]
    desa: list[dict[str, Any]]


class PullResponse(msgspec.Struct, omit_defaults=True):
    changes: list[Change]
    next_cursor: str
    has_more: bool
    reference: Reference | None = None
    protocol_version: int = PROTOCOL_VERSION
    database_id: uuid.UUID | None = None  # the identity the changes and the cursor belong to
    # Only when asked (``estimate``) and more follows: about how many changes come after this page, so a
    # phone can say "page k of about K". Approximate: rows changed again meanwhile are counted once.
    remaining: int | None = None


class Choice(msgspec.Struct, forbid_unknown_fields=True):
    """How one conflicting field is settled: the cadre's value, the server's, or a newly typed one."""

    pick: Literal["mine", "theirs", "edited"]
    value: Any = None


class ResolveRequest(msgspec.Struct, forbid_unknown_fields=True):
    """``fields`` settles a field conflict; ``action`` settles edit-versus-delete:
    ``keep`` (the record stays, with the cadre's edit for ``edit_deleted``) or ``delete``."""

    fields: dict[str, Choice] = {}
    action: Literal["keep", "delete"] | None = None


push_decoder = msgspec.json.Decoder(PushRequest)  # built once: the server decodes every push with it
