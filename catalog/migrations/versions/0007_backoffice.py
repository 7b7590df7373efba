"""The back office: users who sign in with a password, their sessions, and the audit log.

Revision ID: 0007
Revises: 0006

``backoffice_users`` holds an Argon2id hash per user (never the password) and the lockout state:
``failed_attempts`` counts wrong passwords since the last success; at the limit the account is
``locked_until`` a time. ``backoffice_sessions`` keeps a SHA-256 hash of each session cookie's
random value (the cookie alone is worthless to whoever reads the table) with the session's CSRF
token and its expiry. ``audit_log`` has one row per write: who (a user or an API token), when,
what (the thing's kind and key, the product it belongs to) and the state before and after as
JSON; it is written in the write's own transaction, with the write's outbox row id.
"""

from alembic import op

revision = "0007"
down_revision = "0006"

UPGRADE = """
CREATE TABLE backoffice_users (
    id               bigserial PRIMARY KEY,
    username         text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
    role             text NOT NULL CHECK (role IN ('editor', 'pricing', 'stock', 'admin')),
    password_hash    text NOT NULL,
    failed_attempts  integer NOT NULL DEFAULT 0,
    locked_until     timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    disabled_at      timestamptz
);

CREATE TABLE backoffice_sessions (
    id_hash     bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES backoffice_users(id) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX backoffice_sessions_user ON backoffice_sessions(user_id);

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text NOT NULL,
    via         text NOT NULL CHECK (via IN ('backoffice', 'api')),
    action      text NOT NULL,
    kind        text NOT NULL,
    subject     text NOT NULL,
    product     text,
    before      jsonb,
    after       jsonb,
    outbox_id   bigint
);
CREATE INDEX audit_log_product ON audit_log(product, id DESC);
CREATE INDEX audit_log_at ON audit_log(id DESC);
"""

DOWNGRADE = "DROP TABLE audit_log, backoffice_sessions, backoffice_users;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
