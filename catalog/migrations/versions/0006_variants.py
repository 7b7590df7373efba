"""Products with variants (docs/variants.md): each product is sold in one or more variants.

Revision ID: 0006
Revises: 0005

A variant has its own SKU, option values (``variant_options``), prices, offers and stock: those
tables now reference ``variants(sku)`` instead of ``products(sku)``. A *simple* product has one
default variant whose SKU is the product's and which has no options; the upgrade creates it for
every existing product (with the product's versions), so every existing price, offer and stock row
stays valid and keeps its SKU.

A SKU names one thing: a variant may not take another product's SKU (the trigger below), and a
product may not take another product's variant's SKU (the commands check it; a new product's
default variant then collides with that variant in the primary key, which also settles two
concurrent writes). The commands keep ``products.price_version`` and ``stock_version`` at or above
those of the product's variants.
"""

from alembic import op

revision = "0006"
down_revision = "0005"

# (table, the constraint's name) of every reference from sellable things to a SKU
SELLABLES = (
    ("prices", "prices_sku_fkey"),
    ("offers", "offers_sku_fkey"),
    ("stock", "stock_sku_fkey"),
    ("stock_movements", "stock_movements_sku_fkey"),
)

UPGRADE = """
CREATE TABLE variants (
    sku            text PRIMARY KEY,
    product        text NOT NULL REFERENCES products(sku) ON DELETE CASCADE,
    position       integer NOT NULL DEFAULT 0,
    active         boolean NOT NULL DEFAULT true,
    -- its prices and offers
    price_version  bigint NOT NULL DEFAULT nextval('source_version'),
    -- its stock level
    stock_version  bigint NOT NULL DEFAULT nextval('source_version'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX variants_product ON variants(product, position);

CREATE TABLE variant_options (
    variant   text NOT NULL REFERENCES variants(sku) ON DELETE CASCADE,
    name      text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_]{0,39}$'),
    value     text NOT NULL,
    position  integer NOT NULL,
    PRIMARY KEY (variant, name)
);

CREATE FUNCTION variant_sku_not_a_product() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.sku <> NEW.product AND EXISTS (SELECT 1 FROM products WHERE sku = NEW.sku) THEN
        RAISE EXCEPTION 'SKU % is the SKU of a product, it cannot name a variant of %', NEW.sku, NEW.product
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER variant_sku_not_a_product BEFORE INSERT OR UPDATE OF sku, product ON variants
    FOR EACH ROW EXECUTE FUNCTION variant_sku_not_a_product();

INSERT INTO variants (sku, product, position, active, price_version, stock_version, created_at, updated_at)
    SELECT sku, sku, 0, true, price_version, stock_version, created_at, updated_at FROM products;
"""

DOWNGRADE_CHECK = """
DO $$
DECLARE
    explicit text;
BEGIN
    SELECT string_agg(DISTINCT product, ', ') INTO explicit FROM variants WHERE sku <> product;
    IF explicit IS NOT NULL THEN
        RAISE EXCEPTION 'cannot downgrade: products sold in variants would lose them: %', explicit;
    END IF;
END $$;
"""


def upgrade() -> None:
    op.execute(UPGRADE)
    for table, constraint in SELLABLES:
        op.execute(
            f"""ALTER TABLE {table} DROP CONSTRAINT {constraint},
                ADD CONSTRAINT {constraint} FOREIGN KEY (sku) REFERENCES variants(sku) ON DELETE CASCADE"""
        )


def downgrade() -> None:
    """Back to products only; refused while any product is sold in explicit variants (their
    prices and stock have no place without them)."""
    op.execute(DOWNGRADE_CHECK)
    for table, constraint in SELLABLES:
        op.execute(
            f"""ALTER TABLE {table} DROP CONSTRAINT {constraint},
                ADD CONSTRAINT {constraint} FOREIGN KEY (sku) REFERENCES products(sku) ON DELETE CASCADE"""
        )
    op.execute("DROP TABLE variant_options, variants; DROP FUNCTION variant_sku_not_a_product();")
