"""Initial schema: clinics, accounts, patients, consents, series, visits, photos, baselines, analyses, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-21 15:27:51.668020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import tracker.models.base


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clinics',
    sa.Column('id', sa.String(length=22), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinics')),
    sa.UniqueConstraint('name', name=op.f('uq_clinics_name'))
    )
    op.create_table('patients',
    sa.Column('id', sa.String(length=22), nullable=False),
    sa.Column('clinic_id', sa.String(length=22), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('fitzpatrick', sa.Integer(), nullable=False),
    sa.Column('concerns', sa.JSON(), nullable=False),
    sa.Column('concerns_notes', sa.Text(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('is_simulated', sa.Boolean(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_patients_clinic_id_clinics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients'))
    )
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patients_clinic_id'), ['clinic_id'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.String(length=22), nullable=False),
    sa.Column('clinic_id', sa.String(length=22), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('patient_id', sa.String(length=22), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('must_change_password', sa.Boolean(), nullable=False),
    sa.Column('auth_version', sa.Integer(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', tracker.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_users_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_users_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('patient_id', name=op.f('uq_users_patient_id'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index('ix_users_clinic_role', ['clinic_id', 'role'], unique=False)

    op.create_table('audit_events',
    sa.Column('id', sa.String(length=22), nullable=False),
    sa.Column('clinic_id', sa.String(length=22), nullable=False),
    sa.Column('actor_id', sa.String(length=22), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=22), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_events_actor_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_audit_events_clinic_id_clinics'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index('ix_audit_events_clinic_created', ['clinic_id', 'created_at'], unique=False)
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.String(length=22), nullable=False),
    sa.Column('clinic_id', sa.String(length=22), nullable=False),
    sa.Column('patient_id', sa.String(length=22), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('granted_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.Column('recorded_by_id', sa.String(length=22), nullable=True),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('revoked_at', tracker.models.base.UTCDateTime(), nullable=True),
    sa.Column('revoked_by_id', sa.String(length=22), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_consents_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_consents_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consents_recorded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_consents_revoked_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consents_patient_id'), ['patient_id'], unique=False)

    op.create_table('invitations',
    sa.Column('id', sa.String(length=22), nullable=False),
    sa.Column('clinic_id', sa.String(length=22), nullable=False),
    sa.Column('patient_id', sa.String(length=22), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.String(length=22), nullable=True),
    sa.Column('created_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.Column('used_at', tracker.models.base.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', tracker.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_invitations_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_invitations_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_invitations_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invitations')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_invitations_token_hash'))
    )
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_invitations_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_invitations_patient_id'), ['patient_id'], unique=False)

    op.create_table('treatment_series',
    sa.Column('id', sa.String(length=22), nullable=False),
    sa.Column('clinic_id', sa.String(length=22), nullable=False),
    sa.Column('patient_id', sa.String(length=22), nullable=False),
    sa.Column('treatment_type', sa.String(length=40), nullable=False),
    sa.Column('treated_areas', sa.JSON(), nullable=False),
    sa.Column('planned_sessions', sa.Integer(), nullable=False),
    sa.Column('interval_days', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('is_simulated', sa.Boolean(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.String(length=22), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_treatment_series_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_treatment_series_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_treatment_series_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatment_series'))
    )
    with op.batch_alter_table('treatment_series', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_treatment_series_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_treatment_series_patient_id'), ['patient_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.String(length=22), nullable=False),
    sa.Column('clinic_id', sa.String(length=22), nullable=False),
    sa.Column('series_id', sa.String(length=22), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('session_number', sa.Integer(), nullable=True),
    sa.Column('technician_id', sa.String(length=22), nullable=True),
    sa.Column('device', sa.String(length=200), nullable=False),
    sa.Column('energy_mj', sa.Float(), nullable=True),
    sa.Column('fluence_j_cm2', sa.Float(), nullable=True),
    sa.Column('density_pct', sa.Float(), nullable=True),
    sa.Column('passes', sa.Integer(), nullable=True),
    sa.Column('spot_size_mm', sa.Float(), nullable=True),
    sa.Column('anaesthesia', sa.String(length=20), nullable=False),
    sa.Column('complications', sa.JSON(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('created_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.String(length=22), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_visits_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_visits_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['series_id'], ['treatment_series.id'], name=op.f('fk_visits_series_id_treatment_series'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['technician_id'], ['users.id'], name=op.f('fk_visits_technician_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index('ix_visits_series_date', ['series_id', 'visit_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_series_id'), ['series_id'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.String(length=22), nullable=False),
    sa.Column('clinic_id', sa.String(length=22), nullable=False),
    sa.Column('patient_id', sa.String(length=22), nullable=False),
    sa.Column('series_id', sa.String(length=22), nullable=False),
    sa.Column('visit_id', sa.String(length=22), nullable=False),
    sa.Column('view', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=80), nullable=False),
    sa.Column('time_point', sa.String(length=20), nullable=False),
    sa.Column('days_after', sa.Integer(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('original_key', sa.String(length=200), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('original_filename', sa.String(length=255), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('captured_at', sa.DateTime(), nullable=True),
    sa.Column('uploaded_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.Column('uploaded_by_id', sa.String(length=22), nullable=True),
    sa.Column('thumb_key', sa.String(length=200), nullable=True),
    sa.Column('display_key', sa.String(length=200), nullable=True),
    sa.Column('derivatives_state', sa.String(length=20), nullable=False),
    sa.Column('derivatives_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_photos_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_photos_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['treatment_series.id'], name=op.f('fk_photos_series_id_treatment_series'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_photos_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_photos_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('patient_id', 'sha256', name=op.f('uq_photos_patient_id_sha256'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index('ix_photos_series_view_region', ['series_id', 'view', 'region'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_visit_id'), ['visit_id'], unique=False)

    op.create_table('analyses',
    sa.Column('id', sa.String(length=22), nullable=False),
    sa.Column('clinic_id', sa.String(length=22), nullable=False),
    sa.Column('photo_id', sa.String(length=22), nullable=False),
    sa.Column('baseline_photo_id', sa.String(length=22), nullable=True),
    sa.Column('roi_revision', sa.Integer(), nullable=False),
    sa.Column('chart_corners', sa.Text(), nullable=True),
    sa.Column('analysis_version', sa.String(length=40), nullable=False),
    sa.Column('inputs_key', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_expires_at', tracker.models.base.UTCDateTime(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('result_json', sa.Text(), nullable=True),
    sa.Column('overlay_keys', sa.Text(), nullable=True),
    sa.Column('created_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.Column('finished_at', tracker.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['baseline_photo_id'], ['photos.id'], name=op.f('fk_analyses_baseline_photo_id_photos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_analyses_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_analyses_photo_id_photos'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analyses')),
    sa.UniqueConstraint('inputs_key', name=op.f('uq_analyses_inputs_key'))
    )
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analyses_baseline_photo_id'), ['baseline_photo_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_analyses_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_analyses_photo_id'), ['photo_id'], unique=False)

    op.create_table('baselines',
    sa.Column('id', sa.String(length=22), nullable=False),
    sa.Column('clinic_id', sa.String(length=22), nullable=False),
    sa.Column('series_id', sa.String(length=22), nullable=False),
    sa.Column('view', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=80), nullable=False),
    sa.Column('photo_id', sa.String(length=22), nullable=False),
    sa.Column('is_override', sa.Boolean(), nullable=False),
    sa.Column('set_by_id', sa.String(length=22), nullable=True),
    sa.Column('updated_at', tracker.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['clinic_id'], ['clinics.id'], name=op.f('fk_baselines_clinic_id_clinics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_baselines_photo_id_photos'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['series_id'], ['treatment_series.id'], name=op.f('fk_baselines_series_id_treatment_series'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_baselines_set_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_baselines')),
    sa.UniqueConstraint('series_id', 'view', 'region', name=op.f('uq_baselines_series_id_view_region'))
    )
    with op.batch_alter_table('baselines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_baselines_clinic_id'), ['clinic_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_baselines_photo_id'), ['photo_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('baselines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_baselines_photo_id'))
        batch_op.drop_index(batch_op.f('ix_baselines_clinic_id'))

    op.drop_table('baselines')
    with op.batch_alter_table('analyses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analyses_photo_id'))
        batch_op.drop_index(batch_op.f('ix_analyses_clinic_id'))
        batch_op.drop_index(batch_op.f('ix_analyses_baseline_photo_id'))

    op.drop_table('analyses')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_visit_id'))
        batch_op.drop_index('ix_photos_series_view_region')
        batch_op.drop_index(batch_op.f('ix_photos_patient_id'))
        batch_op.drop_index(batch_op.f('ix_photos_clinic_id'))

    op.drop_table('photos')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_series_id'))
        batch_op.drop_index('ix_visits_series_date')
        batch_op.drop_index(batch_op.f('ix_visits_clinic_id'))

    op.drop_table('visits')
    with op.batch_alter_table('treatment_series', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treatment_series_patient_id'))
        batch_op.drop_index(batch_op.f('ix_treatment_series_clinic_id'))

    op.drop_table('treatment_series')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_invitations_patient_id'))
        batch_op.drop_index(batch_op.f('ix_invitations_clinic_id'))

    op.drop_table('invitations')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_patient_id'))
        batch_op.drop_index(batch_op.f('ix_consents_clinic_id'))

    op.drop_table('consents')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_object')
        batch_op.drop_index('ix_audit_events_clinic_created')

    op.drop_table('audit_events')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index('ix_users_clinic_role')
        batch_op.drop_index(batch_op.f('ix_users_clinic_id'))

    op.drop_table('users')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patients_clinic_id'))

    op.drop_table('patients')
    op.drop_table('clinics')
