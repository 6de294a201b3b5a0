"""KPIs (the town's settings, monthly snapshots) and periodic reports

Revision ID: 0010_kpis_and_reports
Revises: 0009_follow_up_results
Create Date: 2026-11-28

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_kpis_and_reports'
down_revision = '0009_follow_up_results'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kpi_snapshots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('area_kind', sa.String(length=16), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('numerator', sa.Integer(), nullable=True),
    sa.Column('denominator', sa.Integer(), nullable=True),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_snapshots')),
    sa.UniqueConstraint('month', 'area_kind', 'area_id', 'key', name=op.f('uq_kpi_snapshots_month'))
    )
    with op.batch_alter_table('kpi_snapshots', schema=None) as batch_op:
        batch_op.create_index('ix_kpi_snapshots_area_month', ['area_kind', 'area_id', 'month'], unique=False)

    op.create_table('kpi_settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('target', sa.Float(), nullable=True),
    sa.Column('yellow', sa.Float(), nullable=True),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_kpi_settings_updated_by_id_users')),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_kpi_settings'))
    )
    op.create_table('reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('weekly_check', 'monthly_review', name='report_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('trigger', sa.Enum('scheduled', 'on_demand', name='report_trigger', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('area_kind', sa.String(length=16), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('generated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('generated_by_id', sa.Integer(), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('csv', sa.Text(), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.Column('mail_status', sa.Enum('not_sent', 'pending', 'sent', 'failed', name='report_mail_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('mail_recipients', sa.JSON(), nullable=False),
    sa.Column('mail_attempts', sa.Integer(), nullable=False),
    sa.Column('mail_next_attempt_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mail_error', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['generated_by_id'], ['users.id'], name=op.f('fk_reports_generated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reports'))
    )
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reports_generated_at'), ['generated_at'], unique=False)
        batch_op.create_index('ix_reports_kind_period', ['kind', 'period_start', 'period_end'], unique=False)
        batch_op.create_index('uq_reports_scheduled_kind_period', ['kind', 'period_start', 'period_end'], unique=True, sqlite_where=sa.text("trigger = 'scheduled'"), postgresql_where=sa.text("trigger = 'scheduled'"))



def downgrade():
    with op.batch_alter_table('reports', schema=None) as batch_op:
        batch_op.drop_index('uq_reports_scheduled_kind_period', sqlite_where=sa.text("trigger = 'scheduled'"), postgresql_where=sa.text("trigger = 'scheduled'"))
        batch_op.drop_index('ix_reports_kind_period')
        batch_op.drop_index(batch_op.f('ix_reports_generated_at'))

    op.drop_table('reports')
    op.drop_table('kpi_settings')
    with op.batch_alter_table('kpi_snapshots', schema=None) as batch_op:
        batch_op.drop_index('ix_kpi_snapshots_area_month')

    op.drop_table('kpi_snapshots')
