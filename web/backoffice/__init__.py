"""The back office: editors, pricing and the warehouse work in a browser (README, "Back office").

Server-rendered pages under ``/backoffice`` in the admin app; sign-in with a username and
password (``snipshop user create``), the same roles and write commands as the admin API.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the back office on the admin app."""
    # The view modules add their routes to the blueprint when imported.
    from web.backoffice import (  # noqa: F401
        audit_views,
        auth_views,
        catalog_views,
        category_views,
        feed_views,
        language_views,
        price_views,
        product_lifecycle_views,
        projection_controls,
        status_views,
        stock_views,
        translation,
        variant_views,
    )
    from web.backoffice.blueprint import backoffice

    translation.init_app(app)

    app.register_blueprint(backoffice)
