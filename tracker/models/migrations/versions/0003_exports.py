"""Exports: one record per export (who, what, when, hashes) and each clinic's export setting.

Revision ID: 0003_exports
Revises: 0002
Create Date: 2026-11-21 16:25:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tracker.models.base

revision = "0003_exports"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exports",
        sa.Column("id", sa.String(length=22), nullable=False),
        sa.Column("clinic_id", sa.String(length=22), nullable=False),
        sa.Column("patient_id", sa.String(length=22), nullable=False),
        sa.Column("series_id", sa.String(length=22), nullable=False),
        sa.Column("created_by_id", sa.String(length=22), nullable=True),
        sa.Column("created_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("view", sa.String(length=120), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=True),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("originals", sa.JSON(), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_exports_clinic_id_clinics"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["patient_id"], ["patients.id"], name=op.f("fk_exports_patient_id_patients"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["series_id"], ["treatment_series.id"],
                                name=op.f("fk_exports_series_id_treatment_series"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_exports_created_by_id_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exports")),
    )
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exports_clinic_id"), ["clinic_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exports_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index("ix_exports_clinic_created", ["clinic_id", "created_at"], unique=False)

    op.create_table(
        "export_settings",
        sa.Column("clinic_id", sa.String(length=22), nullable=False),
        sa.Column("technicians_may_export", sa.Boolean(), nullable=False),
        sa.Column("updated_at", tracker.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.String(length=22), nullable=True),
        sa.ForeignKeyConstraint(["clinic_id"], ["clinics.id"], name=op.f("fk_export_settings_clinic_id_clinics"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_export_settings_updated_by_id_users"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("clinic_id", name=op.f("pk_export_settings")),
    )


def downgrade() -> None:
    op.drop_table("export_settings")
    with op.batch_alter_table("exports", schema=None) as batch_op:
        batch_op.drop_index("ix_exports_clinic_created")
        batch_op.drop_index(batch_op.f("ix_exports_patient_id"))
        batch_op.drop_index(batch_op.f("ix_exports_clinic_id"))
    op.drop_table("exports")
