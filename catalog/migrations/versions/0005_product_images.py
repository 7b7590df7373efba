"""Product images: references to image files served by a static web server, with their size.

Revision ID: 0005
Revises: 0004

``src`` is a path relative to the shop's IMAGE_BASE_URL or an https URL (vocab/images.py);
``width`` and ``height`` are the file's pixels. The first image (position 0) is the product's
main image. Images belong to the product's text: a product write replaces them and bumps
``products.version``.
"""

from alembic import op

revision = "0005"
down_revision = "0004"

UPGRADE = """
CREATE TABLE product_images (
    sku       text NOT NULL REFERENCES products(sku) ON DELETE CASCADE,
    position  integer NOT NULL,
    src       text NOT NULL,
    width     integer NOT NULL CHECK (width BETWEEN 1 AND 10000),
    height    integer NOT NULL CHECK (height BETWEEN 1 AND 10000),
    PRIMARY KEY (sku, position)
);
"""

DOWNGRADE = "DROP TABLE product_images;"


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
