"""Serve the classical baseline on gunicorn with the edge's settings (snipshop.serve.run).

    DATABASE_URL=... SHOP_LOCALES=en_US,de_DE SHOP_CURRENCIES=EUR,USD \\
        python -m bench.classical.serve --port 8001 --workers 2

The indexes the app needs are created here, before the workers start, so a large catalog's
index build does not run into gunicorn's worker timeout.
"""
from __future__ import annotations

import argparse

import psycopg

from bench.classical import queries
from snipshop.config import load
from snipshop.serve import _Server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--no-access-log", action="store_true", help="the edge logs every request; match it by default")
    args = parser.parse_args(argv)
    settings = load()
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        queries.ensure_indexes(conn, settings.locales)

    def factory():
        from bench.classical.app import create_app

        return create_app(settings.database_url, settings.default_locale, settings.default_currency,
                          locales=settings.locales, currencies=settings.currencies,
                          low_stock_threshold=settings.low_stock_threshold, featured_count=settings.featured_count)

    # the options of snipshop.serve.run for the edge
    options = {"bind": f"{args.host}:{args.port}", "workers": args.workers, "worker_class": "sync", "threads": 1,
               "accesslog": None if args.no_access_log else "-", "errorlog": "-", "keepalive": 5}
    _Server(factory, options).run()


if __name__ == "__main__":
    main()
