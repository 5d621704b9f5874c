"""database identity

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27

Gives the database its identity (``sync_meta.database_id``, a random UUID). Phones carry it in their
cursors and mutations; ``kader restore`` (or ``kader sync new-identity`` after a hand restore) gives the
restored database a new one, so phones notice the restore and send again what it lost
(docs/sync-protocol.md, "Restored server").
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

sync_meta = sa.table("sync_meta", sa.column("key", sa.String), sa.column("value", sa.Text))


def upgrade() -> None:
    op.bulk_insert(sync_meta, [{"key": "database_id", "value": str(uuid.uuid4())}])


def downgrade() -> None:
    op.execute(sync_meta.delete().where(sync_meta.c.key.in_(["database_id", "restored_at_seq", "ancestors"])))
