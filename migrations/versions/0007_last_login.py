"""Users gain `last_login_at` (shown on the admin's users page).

Revision ID: 0007_last_login
Revises: 0006_oidc_identities
Create Date: 2026-12-01
"""
from alembic import op
import sqlalchemy as sa

revision = "0007_last_login"
down_revision = "0006_oidc_identities"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("last_login_at")
