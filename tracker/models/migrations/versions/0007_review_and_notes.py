"""Review before patients see: visits marked reviewed, clinic publishing settings; staff notes on photos.

Visits that exist at upgrade count as reviewed: their patients already saw them.

Revision ID: 0007_review_and_notes
Revises: 0005_sessions_and_security
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0007_review_and_notes"
down_revision = "0005_sessions_and_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("visits") as batch:
        batch.add_column(sa.Column("reviewed_at", tracker.models.base.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("reviewed_by_id", sa.String(length=22), nullable=True))
        batch.create_foreign_key(op.f("fk_visits_reviewed_by_id_users"), "users", ["reviewed_by_id"], ["id"],
                                 ondelete="SET NULL")
    op.execute(sa.text("UPDATE visits SET reviewed_at = created_at WHERE reviewed_at IS NULL"))
    with op.batch_alter_table("clinic_display_settings") as batch:
        batch.add_column(sa.Column("auto_publish", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("patient_details", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "photo_notes",
        sa.Column("id", sa.String(length=22), nullable=False),
        sa.Column("clinic_id", sa.String(length=22), nullable=False),
        sa.Column("photo_id", sa.String(length=22), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.String(length=22), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_photo_notes_clinic_id_clinics"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"], name=op.f("fk_photo_notes_photo_id_photos"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_photo_notes_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_photo_notes")),
    )
    op.create_index(op.f("ix_photo_notes_clinic_id"), "photo_notes", ["clinic_id"])
    op.create_index(op.f("ix_photo_notes_photo_id"), "photo_notes", ["photo_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_photo_notes_photo_id"), table_name="photo_notes")
    op.drop_index(op.f("ix_photo_notes_clinic_id"), table_name="photo_notes")
    op.drop_table("photo_notes")
    with op.batch_alter_table("clinic_display_settings") as batch:
        batch.drop_column("patient_details")
        batch.drop_column("auto_publish")
    with op.batch_alter_table("visits") as batch:
        batch.drop_constraint(op.f("fk_visits_reviewed_by_id_users"), type_="foreignkey")
        batch.drop_column("reviewed_by_id")
        batch.drop_column("reviewed_at")
