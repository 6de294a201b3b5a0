"""alerts: alerts, evidence, the delivery outbox, thresholds, monitoring profiles

Revision ID: 0007_alerts
Revises: 0006_rollups_dead_letters
Create Date: 2026-11-28

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_alerts'
down_revision = '0006_rollups_dead_letters'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('alert_threshold_overrides',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('low', sa.Float(), nullable=True),
    sa.Column('high', sa.Float(), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('set_by_id', sa.Integer(), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_alert_threshold_overrides_resident_id_residents')),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_alert_threshold_overrides_set_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_threshold_overrides')),
    sa.UniqueConstraint('resident_id', 'metric', name='uq_threshold_overrides_metric')
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.Enum('low', 'medium', 'high', 'critical', name='alert_severity', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('status', sa.Enum('open', 'escalated', 'acknowledged', 'resolved', name='alert_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('message', sa.String(length=300), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_evidence_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('evidence_count', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('next_step_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snoozed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['users.id'], name=op.f('fk_alerts_acknowledged_by_id_users')),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_alerts_device_id_devices')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_alerts_resident_id_residents')),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_alerts_resolved_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_opened_at'), ['opened_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_resident_id'), ['resident_id'], unique=False)
        batch_op.create_index('ix_alerts_status_next_step', ['status', 'next_step_at'], unique=False)
        batch_op.create_index('uq_alerts_resident_rule_active', ['resident_id', 'rule'], unique=True, sqlite_where=sa.text("status != 'resolved'"), postgresql_where=sa.text("status != 'resolved'"))

    op.create_table('consciousness_assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Enum('A', 'C', 'V', 'P', 'U', name='consciousness', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('assessed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('assessed_by_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['assessed_by_id'], ['users.id'], name=op.f('fk_consciousness_assessments_assessed_by_id_users')),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_consciousness_assessments_resident_id_residents')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consciousness_assessments'))
    )
    with op.batch_alter_table('consciousness_assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consciousness_assessments_resident_id'), ['resident_id'], unique=False)

    op.create_table('monitoring_profiles',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('hypercapnic', sa.Boolean(), nullable=False),
    sa.Column('on_oxygen', sa.Boolean(), nullable=False),
    sa.Column('silent_after_hours', sa.Integer(), nullable=True),
    sa.Column('quiet_from', sa.Time(), nullable=True),
    sa.Column('quiet_until', sa.Time(), nullable=True),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_monitoring_profiles_resident_id_residents')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_monitoring_profiles_updated_by_id_users')),
    sa.PrimaryKeyConstraint('resident_id', name=op.f('pk_monitoring_profiles'))
    )
    op.create_table('alert_deliveries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('channel', sa.Enum('live', 'email', 'webhook', name='delivery_channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('recipient_key', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sent', 'failed', 'cancelled', name='delivery_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_deliveries_alert_id_alerts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_alert_deliveries_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_deliveries')),
    sa.UniqueConstraint('alert_id', 'step', 'channel', 'recipient_key', name='uq_alert_deliveries_once')
    )
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_deliveries_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index('ix_alert_deliveries_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_alert_deliveries_user_live', ['user_id', 'channel', 'id'], unique=False)

    op.create_table('alert_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('reading_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('metric', sa.String(length=32), nullable=True),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('observed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_evidence_alert_id_alerts')),
    sa.ForeignKeyConstraint(['reading_id'], ['readings.id'], name=op.f('fk_alert_evidence_reading_id_readings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_evidence'))
    )
    with op.batch_alter_table('alert_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_evidence_alert_id'), ['alert_id'], unique=False)

    op.create_table('alert_delivery_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('attempted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['alert_deliveries.id'], name=op.f('fk_alert_delivery_attempts_delivery_id_alert_deliveries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_delivery_attempts'))
    )
    with op.batch_alter_table('alert_delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_delivery_attempts_delivery_id'), ['delivery_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=200), nullable=True))



def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email')

    with op.batch_alter_table('alert_delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_delivery_attempts_delivery_id'))

    op.drop_table('alert_delivery_attempts')
    with op.batch_alter_table('alert_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_evidence_alert_id'))

    op.drop_table('alert_evidence')
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_index('ix_alert_deliveries_user_live')
        batch_op.drop_index('ix_alert_deliveries_due')
        batch_op.drop_index(batch_op.f('ix_alert_deliveries_alert_id'))

    op.drop_table('alert_deliveries')
    op.drop_table('monitoring_profiles')
    with op.batch_alter_table('consciousness_assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consciousness_assessments_resident_id'))

    op.drop_table('consciousness_assessments')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('uq_alerts_resident_rule_active', sqlite_where=sa.text("status != 'resolved'"), postgresql_where=sa.text("status != 'resolved'"))
        batch_op.drop_index('ix_alerts_status_next_step')
        batch_op.drop_index(batch_op.f('ix_alerts_resident_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_opened_at'))

    op.drop_table('alerts')
    op.drop_table('alert_threshold_overrides')
