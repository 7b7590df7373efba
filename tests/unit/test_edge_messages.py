"""The edge's own pages (503, 405, 414) speak the shopper's language, with a matching ``html lang``.

The snippet store is an address nobody answers at, so every page that needs it is the 503."""

import re

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from search.query import MAX_QUERY_STRING
from snipshop.config import Settings
from tools.localservices import free_port
from web.edge.app import create_app


def client():
    settings = Settings(locales=("en_US", "de_DE"), currencies=("EUR",), edge_cache_mb=0)
    dead = redis.Redis(port=free_port(), socket_timeout=0.5, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0))
    return create_app(settings, client=dead).test_client(use_cookies=False)


def lang(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def test_the_store_down_page_is_in_the_shoppers_language():
    shop = client()
    de = shop.get("/p/X-1?locale=de_DE")
    assert de.status_code == 503 and lang(de.text) == "de"
    assert "<h1>Vorübergehend nicht verfügbar</h1>" in de.text and "Temporarily" not in de.text
    en = shop.get("/p/X-1")
    assert en.status_code == 503 and lang(en.text) == "en" and "<h1>Temporarily unavailable</h1>" in en.text


def test_wrong_method_and_too_long_pages_follow_the_locale():
    shop = client()
    wrong = shop.post("/p/X-1", headers={"Cookie": "locale=de_DE"})
    assert wrong.status_code == 405 and lang(wrong.text) == "de" and "Methode nicht erlaubt" in wrong.text
    long_query = "&".join(f"a{i}=x" for i in range(MAX_QUERY_STRING // 4))
    too_long = shop.get(f"/search?locale=de_DE&{long_query}", headers={"Cookie": "locale=de_DE"})
    assert too_long.status_code == 414 and lang(too_long.text) == "de"
    assert f"höchstens {MAX_QUERY_STRING} Zeichen" in too_long.text
    english = shop.get(f"/search?locale=de_DE&{long_query}")  # the parameters are not read: the default
    assert english.status_code == 414 and lang(english.text) == "en" and "at most" in english.text
