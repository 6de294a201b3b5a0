"""follow-ups: results (form, classification), what they led to, condition

Revision ID: 0009_follow_up_results
Revises: 0008_video_visits
Create Date: 2026-11-28

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_follow_up_results'
down_revision = '0008_video_visits'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('condition', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('done_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('form', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('classification', sa.Enum('satisfactory', 'unsatisfactory', 'side_effects', 'complications', name='follow_up_classification', native_enum=False, create_constraint=True, length=32), nullable=True))
        batch_op.add_column(sa.Column('next_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('referral_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_reason', sa.String(length=500), nullable=True))
        batch_op.create_index(batch_op.f('ix_follow_ups_condition'), ['condition'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_follow_ups_done_by_id_users'), 'users', ['done_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_follow_ups_next_id_follow_ups'), 'follow_ups', ['next_id'], ['id'])


def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_follow_ups_next_id_follow_ups'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_follow_ups_done_by_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_follow_ups_condition'))
        batch_op.drop_column('closed_reason')
        batch_op.drop_column('referral_id')
        batch_op.drop_column('next_id')
        # the enum's CHECK names the column: drop it first, or SQLite's rebuild keeps it
        batch_op.drop_constraint(batch_op.f('ck_follow_ups_follow_up_classification'), type_='check')
        batch_op.drop_column('classification')
        batch_op.drop_column('form')
        batch_op.drop_column('done_by_id')
        batch_op.drop_column('condition')

