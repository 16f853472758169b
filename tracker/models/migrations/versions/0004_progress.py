"""Progress tracking: healing windows and display settings per clinic, region revisions, photo retakes.

Revision ID: 0004_progress
Revises: 0003_exports
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0004_progress"
down_revision = "0003_exports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "healing_windows",
        sa.Column("id", sa.String(length=22), nullable=False),
        sa.Column("clinic_id", sa.String(length=22), nullable=False),
        sa.Column("treatment_type", sa.String(length=40), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("updated_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_healing_windows_clinic_id_clinics"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_healing_windows")),
        sa.UniqueConstraint("clinic_id", "treatment_type", name=op.f("uq_healing_windows_clinic_id_treatment_type")),
    )
    op.create_index(op.f("ix_healing_windows_clinic_id"), "healing_windows", ["clinic_id"])
    op.create_table(
        "clinic_display_settings",
        sa.Column("clinic_id", sa.String(length=22), nullable=False),
        sa.Column("hide_overlays_from_patients", sa.Boolean(), nullable=False),
        sa.Column("updated_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"],
                                name=op.f("fk_clinic_display_settings_clinic_id_clinics"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("clinic_id", name=op.f("pk_clinic_display_settings")),
    )
    op.create_table(
        "region_revisions",
        sa.Column("id", sa.String(length=22), nullable=False),
        sa.Column("clinic_id", sa.String(length=22), nullable=False),
        sa.Column("series_id", sa.String(length=22), nullable=False),
        sa.Column("view", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=80), nullable=False),
        sa.Column("baseline_photo_id", sa.String(length=22), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("polygon_json", sa.Text(), nullable=True),
        sa.Column("mask_key", sa.String(length=200), nullable=True),
        sa.Column("chart_corners", sa.Text(), nullable=True),
        sa.Column("created_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.String(length=22), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_region_revisions_clinic_id_clinics"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["series_id"], ["treatment_series.id"],
                                name=op.f("fk_region_revisions_series_id_treatment_series"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["baseline_photo_id"], ["photos.id"],
                                name=op.f("fk_region_revisions_baseline_photo_id_photos"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_region_revisions_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region_revisions")),
        sa.UniqueConstraint("series_id", "view", "region", "revision",
                            name=op.f("uq_region_revisions_series_id_view_region_revision")),
    )
    op.create_index(op.f("ix_region_revisions_clinic_id"), "region_revisions", ["clinic_id"])
    op.create_index(op.f("ix_region_revisions_series_id"), "region_revisions", ["series_id"])
    op.create_table(
        "photo_retakes",
        sa.Column("refused_photo_id", sa.String(length=22), nullable=False),
        sa.Column("clinic_id", sa.String(length=22), nullable=False),
        sa.Column("retake_photo_id", sa.String(length=22), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.String(length=22), nullable=True),
        sa.ForeignKeyConstraint(["refused_photo_id"], ["photos.id"],
                                name=op.f("fk_photo_retakes_refused_photo_id_photos"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["retake_photo_id"], ["photos.id"],
                                name=op.f("fk_photo_retakes_retake_photo_id_photos"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_photo_retakes_clinic_id_clinics"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_photo_retakes_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("refused_photo_id", name=op.f("pk_photo_retakes")),
    )
    op.create_index(op.f("ix_photo_retakes_clinic_id"), "photo_retakes", ["clinic_id"])
    op.create_index(op.f("ix_photo_retakes_retake_photo_id"), "photo_retakes", ["retake_photo_id"])


def downgrade() -> None:
    op.drop_table("photo_retakes")
    op.drop_table("region_revisions")
    op.drop_table("clinic_display_settings")
    op.drop_table("healing_windows")
