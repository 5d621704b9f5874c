"""stored push answers per client

Revision ID: 0003_answers_per_client
Revises: 0003_peringkat_dihitung
Create Date: 2026-12-07

``processed_mutations`` was keyed by ``mutation_id`` alone, so a mutation id sent by a second account
found the first account's stored answer (its record id) and her own change was never written. The key
becomes (``mutation_id``, ``client_id``); push looks up only the answers given to the caller's account
(docs/sync-protocol.md, "Push", step 3).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.db.types

revision = '0003_answers_per_client'
down_revision = '0003_peringkat_dihitung'
branch_labels = None
depends_on = None


# SQLite alters a table by copying it; reflected, its UUID and TIMESTAMPTZ columns would read as NUMERIC
# and be copied so (Piccolo then no longer converts them): the copy is made from the table as declared.
def _table(*key: str) -> sa.Table:
    return sa.Table(
        'processed_mutations', sa.MetaData(),
        sa.Column('mutation_id', server.db.types.UUID(), nullable=False),
        sa.Column('client_id', server.db.types.UUID(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=False),
        sa.Column('created_at', server.db.types.TZDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['client_id'], ['sync_clients.id'],
                                name='fk_processed_mutations_client_id_sync_clients'),
        sa.PrimaryKeyConstraint(*key, name='pk_processed_mutations'),
        sa.Index('ix_processed_mutations_client_id', 'client_id'),
    )


def upgrade() -> None:
    with op.batch_alter_table('processed_mutations', copy_from=_table('mutation_id')) as batch_op:
        batch_op.drop_constraint('pk_processed_mutations', type_='primary')
        batch_op.create_primary_key('pk_processed_mutations', ['mutation_id', 'client_id'])


def downgrade() -> None:
    # The old key holds one answer per mutation id: answers of a mutation id that two clients used go
    # (a retry of one of those is then applied again, as a create of an existing record is: an update).
    op.execute("DELETE FROM processed_mutations WHERE mutation_id IN "
               "(SELECT mutation_id FROM processed_mutations GROUP BY mutation_id HAVING count(*) > 1)")
    with op.batch_alter_table('processed_mutations', copy_from=_table('mutation_id', 'client_id')) as batch_op:
        batch_op.drop_constraint('pk_processed_mutations', type_='primary')
        batch_op.create_primary_key('pk_processed_mutations', ['mutation_id'])
