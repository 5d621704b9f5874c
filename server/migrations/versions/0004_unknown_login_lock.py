"""log-in lock for unknown usernames

Revision ID: 0004_unknown_login_lock
Revises: 0003_answers_per_client
Create Date: 2026-12-07

The log-in lock answered 429 for existing usernames only, so it told anyone which usernames exist.
Failed log-ins with a name no account has are now counted and locked by the same rule, in their own
table (keyed by a hash of the name), and answered alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import server.db.types

revision = '0004_unknown_login_lock'
down_revision = '0003_answers_per_client'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_failures',
        sa.Column('username_hash', sa.String(length=64), nullable=False),
        sa.Column('failed_logins', sa.Integer(), nullable=False),
        sa.Column('locked_until', server.db.types.TZDateTime(), nullable=True),
        sa.Column('last_failure_at', server.db.types.TZDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('username_hash', name=op.f('pk_login_failures')),
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_last_failure_at'), ['last_failure_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_login_failures_last_failure_at'))
    op.drop_table('login_failures')
