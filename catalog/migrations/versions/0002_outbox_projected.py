"""The outbox is acknowledged end to end: a row counts as done when its projection ran.

Revision ID: 0002
Revises: 0001

``dispatched_at`` says the broker took the row's task; ``projected_at`` says a worker finished
it. The relay sends a row again when it was dispatched long ago and never projected: the broker
lost it (a restart without persistence) or a worker died holding it. ``sends`` counts the
hand-overs, so a row whose task fails for good (a dead letter) is not sent forever.
"""

from alembic import op

revision = "0002"
down_revision = "0001"

UPGRADE = """
ALTER TABLE outbox ADD COLUMN projected_at timestamptz, ADD COLUMN sends smallint NOT NULL DEFAULT 0;
-- Rows dispatched before this migration count as projected: their tasks ran under the old rules.
UPDATE outbox SET projected_at = dispatched_at, sends = 1 WHERE dispatched_at IS NOT NULL;
CREATE INDEX outbox_unprojected ON outbox(dispatched_at) WHERE projected_at IS NULL AND dispatched_at IS NOT NULL;
"""

DOWNGRADE = """
DROP INDEX outbox_unprojected;
ALTER TABLE outbox DROP COLUMN projected_at, DROP COLUMN sends;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
