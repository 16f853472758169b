"""Server-side sessions, the sign-in throttle, two-factor sign-in, lease holders, mask hashes.

Revision ID: 0005_sessions_and_security
Revises: 0004_progress
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0005_sessions_and_security"
down_revision = "0004_progress"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(length=22), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=22), nullable=False),
        sa.Column("auth_version", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("created_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("expires_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("ended_at", tracker.models.base.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_sessions_token_hash")),
    )
    op.create_index(op.f("ix_user_sessions_user_id"), "user_sessions", ["user_id"])
    op.create_table(
        "sign_in_throttles",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("window_started_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttles")),
    )
    with op.batch_alter_table("clinics") as batch:
        batch.add_column(sa.Column("require_two_factor", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("recovery_codes", sa.Text(), nullable=True))
    with op.batch_alter_table("analyses") as batch:
        batch.add_column(sa.Column("lease_holder", sa.String(length=200), nullable=True))
    with op.batch_alter_table("region_revisions") as batch:
        batch.add_column(sa.Column("mask_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("region_revisions") as batch:
        batch.drop_column("mask_sha256")
    with op.batch_alter_table("analyses") as batch:
        batch.drop_column("lease_holder")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("recovery_codes")
        batch.drop_column("totp_secret")
    with op.batch_alter_table("clinics") as batch:
        batch.drop_column("require_two_factor")
    op.drop_table("sign_in_throttles")
    op.drop_table("user_sessions")
