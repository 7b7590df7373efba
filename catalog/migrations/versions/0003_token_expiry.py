"""Admin API tokens may expire: ``api_tokens.expires_at`` (NULL: never).

Revision ID: 0003
Revises: 0002

``catalog.tokens.authenticate`` refuses a token whose ``expires_at`` has passed, as it refuses a
revoked one; ``snipshop token create --expires-in 30d`` sets it.
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute("ALTER TABLE api_tokens ADD COLUMN expires_at timestamptz")


def downgrade() -> None:
    op.execute("ALTER TABLE api_tokens DROP COLUMN expires_at")
