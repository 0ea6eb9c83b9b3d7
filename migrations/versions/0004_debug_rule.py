"""Access rules: the right to add debug containers.

Revision ID: 0004_debug_rule
Revises: 0003_session_version
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_debug_rule"
down_revision = "0003_session_version"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rules") as batch:
        batch.add_column(sa.Column("can_debug", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("rules") as batch:
        batch.drop_column("can_debug")
