"""Rules gain a `logs` right (read container logs).

Revision ID: 0005_logs_right
Revises: 0004_debug_rule
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = "0005_logs_right"
down_revision = "0004_debug_rule"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("rules") as batch:
        batch.add_column(sa.Column("can_logs", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("rules") as batch:
        batch.drop_column("can_logs")
