"""video visits: availability, visits, slot claims, participants, signals, consents, recordings, quality

Revision ID: 0008_video_visits
Revises: 0007_alerts
Create Date: 2026-11-28

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_video_visits'
down_revision = '0007_alerts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visit_availability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('end_time', sa.Time(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_time > start_time', name=op.f('ck_visit_availability_ends_after_start')),
    sa.CheckConstraint('weekday >= 0 AND weekday <= 6', name=op.f('ck_visit_availability_weekday_range')),
    sa.ForeignKeyConstraint(['doctor_id'], ['users.id'], name=op.f('fk_visit_availability_doctor_id_users')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_visit_availability_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_availability'))
    )
    with op.batch_alter_table('visit_availability', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_availability_doctor_id'), ['doctor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_availability_team_id'), ['team_id'], unique=False)

    op.create_table('visit_availability_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('on_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('closed', 'extra', name='availability_exception', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=True),
    sa.Column('end_time', sa.Time(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(start_time IS NULL AND end_time IS NULL) OR end_time > start_time', name=op.f('ck_visit_availability_exceptions_times_in_order')),
    sa.ForeignKeyConstraint(['doctor_id'], ['users.id'], name=op.f('fk_visit_availability_exceptions_doctor_id_users')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_visit_availability_exceptions_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_availability_exceptions'))
    )
    with op.batch_alter_table('visit_availability_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_availability_exceptions_doctor_id'), ['doctor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_availability_exceptions_on_date'), ['on_date'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('visit_type', sa.Enum('video_consult', 'online_revisit', 'remote_follow_up', name='visit_type', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('booked', 'in_progress', 'completed', 'cancelled', 'no_show', 'missed_by_team', name='visit_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('booked_by_id', sa.Integer(), nullable=False),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('form', sa.JSON(), nullable=True),
    sa.Column('follow_up_id', sa.Integer(), nullable=True),
    sa.Column('reminded_day_before_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminded_soon_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['booked_by_id'], ['users.id'], name=op.f('fk_visits_booked_by_id_users')),
    sa.ForeignKeyConstraint(['doctor_id'], ['users.id'], name=op.f('fk_visits_doctor_id_users')),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'], name=op.f('fk_visits_follow_up_id_follow_ups')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_visits_resident_id_residents')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_visits_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_doctor_id'), ['doctor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_team_id'), ['team_id'], unique=False)

    op.create_table('visit_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('resident', 'doctor', 'caregiver', 'interpreter', 'specialist', 'recorder', name='participant_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('token_nonce', sa.String(length=32), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('first_joined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_joined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('client', sa.String(length=16), nullable=True),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_visit_participants_invited_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_visit_participants_user_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_participants_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_participants'))
    )
    with op.batch_alter_table('visit_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_participants_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_participants_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_slot_claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doctor_id', sa.Integer(), nullable=False),
    sa.Column('slot_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['doctor_id'], ['users.id'], name=op.f('fk_visit_slot_claims_doctor_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_slot_claims_visit_id_visits'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_slot_claims')),
    sa.UniqueConstraint('doctor_id', 'slot_start', name='uq_visit_slot_claims')
    )
    with op.batch_alter_table('visit_slot_claims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_slot_claims_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_quality_samples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('peer_id', sa.Integer(), nullable=True),
    sa.Column('measured_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rtt_ms', sa.Double(), nullable=True),
    sa.Column('loss_percent', sa.Double(), nullable=True),
    sa.Column('bitrate_kbps', sa.Double(), nullable=True),
    sa.Column('audio_only', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['visit_participants.id'], name=op.f('fk_visit_quality_samples_participant_id_visit_participants')),
    sa.ForeignKeyConstraint(['peer_id'], ['visit_participants.id'], name=op.f('fk_visit_quality_samples_peer_id_visit_participants')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_quality_samples_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_quality_samples'))
    )
    with op.batch_alter_table('visit_quality_samples', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_quality_samples_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_recording_consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('resident', 'doctor', 'caregiver', 'interpreter', 'specialist', 'recorder', name='consent_role', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('given_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['visit_participants.id'], name=op.f('fk_visit_recording_consents_participant_id_visit_participants')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_recording_consents_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_recording_consents')),
    sa.UniqueConstraint('visit_id', 'role', name='uq_visit_recording_consents_role')
    )
    with op.batch_alter_table('visit_recording_consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_recording_consents_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_recordings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('requested', 'recording', 'finished', 'failed', 'purged', name='recording_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('recorder_participant_id', sa.Integer(), nullable=True),
    sa.Column('file_name', sa.String(length=200), nullable=False),
    sa.Column('bytes', sa.BigInteger(), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('seconds', sa.Double(), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('purge_after', sa.Date(), nullable=False),
    sa.Column('failure', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['recorder_participant_id'], ['visit_participants.id'], name=op.f('fk_visit_recordings_recorder_participant_id_visit_participants')),
    sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], name=op.f('fk_visit_recordings_started_by_id_users')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_recordings_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_recordings'))
    )
    with op.batch_alter_table('visit_recordings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visit_recordings_purge_after'), ['purge_after'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_recordings_visit_id'), ['visit_id'], unique=False)

    op.create_table('visit_signals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_id', sa.Integer(), nullable=False),
    sa.Column('to_participant_id', sa.Integer(), nullable=False),
    sa.Column('from_participant_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['from_participant_id'], ['visit_participants.id'], name=op.f('fk_visit_signals_from_participant_id_visit_participants')),
    sa.ForeignKeyConstraint(['to_participant_id'], ['visit_participants.id'], name=op.f('fk_visit_signals_to_participant_id_visit_participants')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_signals_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit_signals'))
    )
    with op.batch_alter_table('visit_signals', schema=None) as batch_op:
        batch_op.create_index('ix_visit_signals_to_id', ['to_participant_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_signals_visit_id'), ['visit_id'], unique=False)



def downgrade():
    with op.batch_alter_table('visit_signals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_signals_visit_id'))
        batch_op.drop_index('ix_visit_signals_to_id')

    op.drop_table('visit_signals')
    with op.batch_alter_table('visit_recordings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_recordings_visit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_recordings_purge_after'))

    op.drop_table('visit_recordings')
    with op.batch_alter_table('visit_recording_consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_recording_consents_visit_id'))

    op.drop_table('visit_recording_consents')
    with op.batch_alter_table('visit_quality_samples', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_quality_samples_visit_id'))

    op.drop_table('visit_quality_samples')
    with op.batch_alter_table('visit_slot_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_slot_claims_visit_id'))

    op.drop_table('visit_slot_claims')
    with op.batch_alter_table('visit_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_participants_visit_id'))
        batch_op.drop_index(batch_op.f('ix_visit_participants_user_id'))

    op.drop_table('visit_participants')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_team_id'))
        batch_op.drop_index(batch_op.f('ix_visits_status'))
        batch_op.drop_index(batch_op.f('ix_visits_starts_at'))
        batch_op.drop_index(batch_op.f('ix_visits_resident_id'))
        batch_op.drop_index(batch_op.f('ix_visits_doctor_id'))

    op.drop_table('visits')
    with op.batch_alter_table('visit_availability_exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_availability_exceptions_on_date'))
        batch_op.drop_index(batch_op.f('ix_visit_availability_exceptions_doctor_id'))

    op.drop_table('visit_availability_exceptions')
    with op.batch_alter_table('visit_availability', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_availability_team_id'))
        batch_op.drop_index(batch_op.f('ix_visit_availability_doctor_id'))

    op.drop_table('visit_availability')
