"""peringkat dihitung

Revision ID: 0003_peringkat_dihitung
Revises: 0002
Create Date: 2026-12-10

The rank of a pengkajian or usulan is computed from the scores of its desa whenever it is shown
(``sync/ranking.py``; docs/sync-protocol.md, "Peringkat"), never stored: a stored rank was written by
nobody (the phones never sent it) and left the exports' Peringkat column empty. The columns go.
SQLite (3.35 and later) drops a column in place, so no table is copied.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003_peringkat_dihitung'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column('usulan', 'peringkat')
    op.drop_column('pengkajian', 'peringkat')


def downgrade() -> None:
    op.add_column('pengkajian', sa.Column('peringkat', sa.Integer(), nullable=True))
    op.add_column('usulan', sa.Column('peringkat', sa.Integer(), nullable=True))
