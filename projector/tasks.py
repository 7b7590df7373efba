"""Celery tasks: each carries ids only and re-reads the current state (see projector.service).

Tasks acknowledge late (a worker killed mid-task leaves the message for another) and retry
with exponential backoff when PostgreSQL or Redis is unreachable.
"""
from __future__ import annotations

import logging
from functools import cache

import psycopg
import redis
from celery import Celery
from psycopg_pool import PoolTimeout

from catalog.db import make_pool
from projector import celery_app as names
from projector.keys import PRICE_KINDS, PRODUCT_KINDS, STOCK_KINDS
from projector.readmodel import iter_sku_batches
from projector.relay import celery_sender, dispatch
from projector.service import Projector
from search.factory import make_search

log = logging.getLogger(__name__)

TRANSIENT = (psycopg.OperationalError, PoolTimeout, redis.ConnectionError, redis.TimeoutError)
RETRY = {"autoretry_for": TRANSIENT, "retry_backoff": 1, "retry_backoff_max": 60, "retry_jitter": True,
         "max_retries": 12}
REFRESH_BATCH = 500


def register(app: Celery) -> None:
    """Register the projection tasks on ``app``; the per-process projector is built on first use."""

    @cache
    def projector() -> Projector:
        settings = app.conf.shop_settings
        pool = make_pool(settings.database_url, max_size=4, name="projector")
        pool.open()
        client = redis.Redis.from_url(settings.redis_url)
        return Projector(settings, pool, client, make_search(settings, client))

    def project(skus: list[str], kinds, topic: str) -> None:
        p = projector()
        written = p.products(skus, kinds)
        if topic == "product" or p.touches_home(skus):
            written += p.home()
        log.info("projected", extra={"topic": topic, "skus": len(skus), "keys_written": written})

    @app.task(name=names.PROJECT_PRODUCTS, **RETRY)
    def project_products(skus: list[str]) -> None:
        project(skus, PRODUCT_KINDS, "product")

    @app.task(name=names.PROJECT_PRICES, **RETRY)
    def project_prices(skus: list[str]) -> None:
        project(skus, PRICE_KINDS, "price")

    @app.task(name=names.PROJECT_STOCK, **RETRY)
    def project_stock(skus: list[str]) -> None:
        project(skus, STOCK_KINDS, "stock")

    @app.task(name=names.PROJECT_CATEGORIES, **RETRY)
    def project_categories(keys: list[str]) -> None:
        written = projector().categories(keys)
        log.info("projected", extra={"topic": "category", "categories": len(keys), "keys_written": written})

    @app.task(name=names.RELAY_SWEEP, ignore_result=True)
    def relay_sweep() -> int:
        with projector().pool.connection() as conn:
            return dispatch(conn, celery_sender(app))

    @app.task(name=names.REFRESH, **RETRY)
    def refresh() -> None:
        """Keep live snippets from expiring while the database is up: re-project everything."""
        p = projector()
        p.navigation()
        p.home()
        with p.pool.connection() as conn:
            for skus in iter_sku_batches(conn, REFRESH_BATCH):
                project_products.delay(skus)
