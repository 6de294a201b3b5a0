"""resident imports: a residents' register uploaded as CSV, between preview and import

Revision ID: 0003_resident_imports
Revises: 0002_contracts
Create Date: 2026-11-28

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0003_resident_imports"
down_revision = "0002_contracts"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "resident_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "previewed",
                "imported",
                "discarded",
                name="import_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["users.id"], name=op.f("fk_resident_imports_uploaded_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_resident_imports")),
    )
    with op.batch_alter_table("resident_imports", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_resident_imports_uploaded_by_id"), ["uploaded_by_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("resident_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_imports_uploaded_by_id"))

    op.drop_table("resident_imports")
