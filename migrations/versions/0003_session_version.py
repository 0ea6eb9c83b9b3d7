"""Per-user session version: raising it makes every earlier login cookie useless.

Revision ID: 0003_session_version
Revises: 0002_access
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = "0003_session_version"
down_revision = "0002_access"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("session_version")
