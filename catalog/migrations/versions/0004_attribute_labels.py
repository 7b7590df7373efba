"""Attribute labels per locale: what the facet headings and product pages show for a code.

Revision ID: 0004
Revises: 0003

``attributes`` holds one row per attribute code that ever got labels (canonical, lower case:
vocab/attributes.py), with the source version the labels snippet is stamped with; a label write
replaces the code's rows in ``attribute_labels``. A code without labels shows a fallback
(vocab/i18n.py). Rows are never deleted, so the newest version only grows.
"""

from alembic import op

revision = "0004"
down_revision = "0003"

UPGRADE = """
CREATE TABLE attributes (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9_]{0,39}$'),
    version     bigint NOT NULL DEFAULT nextval('source_version'),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE attribute_labels (
    code    text NOT NULL REFERENCES attributes(code) ON DELETE CASCADE,
    locale  text NOT NULL,
    label   text NOT NULL,
    PRIMARY KEY (code, locale)
);
"""

DOWNGRADE = "DROP TABLE attribute_labels, attributes;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
