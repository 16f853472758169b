"""Record the SHA-256 of every derived file (thumbnail, display image, overlays) so
``tracker verify`` can tell an altered derivative from a good one.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thumb_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('display_sha256', sa.String(length=64), nullable=True))
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overlay_sha256', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_column('overlay_sha256')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_column('display_sha256')
        batch_op.drop_column('thumb_sha256')
