"""Initial schema: categories, products, prices, offers, stock, tokens, outbox.

Revision ID: 0001
Revises:
"""

from alembic import op

revision = "0001"
down_revision = None

# Every write takes a number from source_version; snippets carry it so that an older
# projection never overwrites a newer one.
UPGRADE = """
CREATE SEQUENCE source_version;

CREATE TABLE categories (
    key         text PRIMARY KEY,
    parent      text REFERENCES categories(key),
    position    integer NOT NULL DEFAULT 0,
    version     bigint NOT NULL DEFAULT nextval('source_version'),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (parent IS DISTINCT FROM key)
);
CREATE INDEX categories_parent ON categories(parent);

CREATE TABLE category_names (
    category    text NOT NULL REFERENCES categories(key) ON DELETE CASCADE,
    locale      text NOT NULL,
    name        text NOT NULL,
    PRIMARY KEY (category, locale)
);

CREATE TABLE products (
    sku            text PRIMARY KEY,
    brand          text NOT NULL DEFAULT '',
    active         boolean NOT NULL DEFAULT true,
    deleted_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    -- text, categories, attributes
    version        bigint NOT NULL DEFAULT nextval('source_version'),
    -- prices and offers
    price_version  bigint NOT NULL DEFAULT nextval('source_version'),
    -- stock level
    stock_version  bigint NOT NULL DEFAULT nextval('source_version')
);
CREATE INDEX products_created ON products(created_at DESC);

CREATE TABLE product_texts (
    sku          text NOT NULL REFERENCES products(sku) ON DELETE CASCADE,
    locale       text NOT NULL,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    PRIMARY KEY (sku, locale)
);

CREATE TABLE product_categories (
    sku       text NOT NULL REFERENCES products(sku) ON DELETE CASCADE,
    category  text NOT NULL REFERENCES categories(key),
    position  integer NOT NULL,
    PRIMARY KEY (sku, category)
);
CREATE INDEX product_categories_category ON product_categories(category);

CREATE TABLE product_attributes (
    sku       text NOT NULL REFERENCES products(sku) ON DELETE CASCADE,
    name      text NOT NULL,
    value     text NOT NULL,
    position  integer NOT NULL,
    PRIMARY KEY (sku, name, value)
);
CREATE INDEX product_attributes_name_value ON product_attributes(name, value);

CREATE TABLE prices (
    sku         text NOT NULL REFERENCES products(sku) ON DELETE CASCADE,
    currency    char(3) NOT NULL,
    amount      numeric(12, 2) NOT NULL CHECK (amount >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, currency)
);

CREATE TABLE offers (
    id          bigserial PRIMARY KEY,
    sku         text NOT NULL REFERENCES products(sku) ON DELETE CASCADE,
    currency    char(3) NOT NULL,
    amount      numeric(12, 2) NOT NULL CHECK (amount >= 0),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (sku, currency, starts_at),
    CHECK (ends_at > starts_at)
);

CREATE TABLE stock (
    sku         text PRIMARY KEY REFERENCES products(sku) ON DELETE CASCADE,
    quantity    integer NOT NULL CHECK (quantity >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stock_movements (
    movement_id  text PRIMARY KEY,
    sku          text NOT NULL REFERENCES products(sku) ON DELETE CASCADE,
    delta        integer NOT NULL,
    reason       text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    role        text NOT NULL CHECK (role IN ('editor', 'pricing', 'stock', 'admin')),
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

-- One row per accepted write, committed with it. The relay dispatches ids to Celery and
-- stamps dispatched_at; rows left unstamped are re-sent.
CREATE TABLE outbox (
    id             bigserial PRIMARY KEY,
    topic          text NOT NULL,
    keys           text[] NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    dispatched_at  timestamptz
);
CREATE INDEX outbox_pending ON outbox(id) WHERE dispatched_at IS NULL;
"""

DOWNGRADE = """
DROP TABLE outbox, api_tokens, stock_movements, stock, offers, prices, product_attributes,
    product_categories, product_texts, products, category_names, categories;
DROP SEQUENCE source_version;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
