"""wearables: hourly roll-ups and MQTT dead letters

Revision ID: 0006_rollups_dead_letters
Revises: 0005_wearables
Create Date: 2026-11-28

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006_rollups_dead_letters'
down_revision = '0005_wearables'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.create_index('ix_readings_received_at', ['received_at'], unique=False)

    op.create_table('reading_rollups',
    sa.Column('resident_id', sa.Integer(), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('hour', sa.DateTime(timezone=True), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('minimum', sa.Float(), nullable=True),
    sa.Column('maximum', sa.Float(), nullable=True),
    sa.Column('mean', sa.Float(), nullable=True),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resident_id'], ['residents.id'], name=op.f('fk_reading_rollups_resident_id_residents')),
    sa.PrimaryKeyConstraint('resident_id', 'metric', 'hour', name=op.f('pk_reading_rollups'))
    )
    with op.batch_alter_table('reading_rollups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reading_rollups_refreshed_at'), ['refreshed_at'], unique=False)

    op.create_table('mqtt_dead_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('reason', sa.Enum('not_json', 'unknown_token', 'wrong_topic', 'malformed', 'rejected_readings', name='dead_letter_reason', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], name=op.f('fk_mqtt_dead_letters_device_id_devices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mqtt_dead_letters'))
    )
    with op.batch_alter_table('mqtt_dead_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mqtt_dead_letters_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mqtt_dead_letters_received_at'), ['received_at'], unique=False)



def downgrade():
    with op.batch_alter_table('mqtt_dead_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mqtt_dead_letters_received_at'))
        batch_op.drop_index(batch_op.f('ix_mqtt_dead_letters_device_id'))

    op.drop_table('mqtt_dead_letters')
    with op.batch_alter_table('reading_rollups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reading_rollups_refreshed_at'))

    op.drop_table('reading_rollups')
    with op.batch_alter_table('readings', schema=None) as batch_op:
        batch_op.drop_index('ix_readings_received_at')
