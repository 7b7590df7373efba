"""The back office's feed imports, and the language each back-office user reads it in.

Revision ID: 0008
Revises: 0007

An upload's files are imported in a thread of the admin process that received them; the row is
how every admin process (gunicorn runs several) shows the job's progress. ``files`` lists each
file with its kind, size and counts; ``bytes_done`` of ``bytes_total`` is the progress;
``rejected_rows`` keeps the first rejected rows (file, line, key, reason); ``heartbeat_at`` is
moved on each batch, so that a job whose process died shows as interrupted rather than running.

``backoffice_users.locale`` is the language the back office speaks to the user (one of the
shop's locales; NULL: the browser's preference).
"""

from alembic import op

revision = "0008"
down_revision = "0007"

UPGRADE = """
CREATE TABLE feed_jobs (
    id             bigserial PRIMARY KEY,
    actor          text NOT NULL,
    state          text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'done', 'failed')),
    files          jsonb NOT NULL,
    bytes_total    bigint NOT NULL DEFAULT 0,
    bytes_done     bigint NOT NULL DEFAULT 0,
    rows_read      bigint NOT NULL DEFAULT 0,
    rows_imported  bigint NOT NULL DEFAULT 0,
    rows_rejected  bigint NOT NULL DEFAULT 0,
    rejected_rows  jsonb NOT NULL DEFAULT '[]',
    error          text,
    started_at     timestamptz NOT NULL DEFAULT now(),
    heartbeat_at   timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
CREATE INDEX feed_jobs_recent ON feed_jobs(id DESC);
ALTER TABLE backoffice_users ADD COLUMN locale text CHECK (locale ~ '^[a-z]{2}_[A-Z]{2}$');
"""

DOWNGRADE = "DROP TABLE feed_jobs; ALTER TABLE backoffice_users DROP COLUMN locale;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
