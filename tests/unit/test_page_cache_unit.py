"""ServeCached and PageCache with a stand-in near cache and a tiny WSGI app: what is kept, what
is answered from memory, and the byte budget."""

from __future__ import annotations

from werkzeug.test import Client
from werkzeug.wrappers import Response

from web.edge.pagecache import PageCache, ServeCached, mark

PUBLIC = "public, max-age=5"


class Near:
    """Holds every value it is shown; ``changed`` makes every held page stale."""

    def __init__(self) -> None:
        self.changed = False

    def holding(self, keys, values):
        return tuple(values)

    def still_holds(self, keys, held):
        return not self.changed


def app_serving(calls: list, cache_control: str = PUBLIC, status: int = 200, size: int = 10):
    def app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        mark(environ, 1, ["k"], [b"v"])
        response = Response("x" * size + environ["PATH_INFO"], status=status)
        response.headers["Cache-Control"] = cache_control
        return response(environ, start_response)

    return app


def served(calls, **kwargs):
    near = Near()
    cache = PageCache(near, lambda: 1, kwargs.pop("max_bytes", 2**20))
    return Client(ServeCached(app_serving(calls, **kwargs), cache, PUBLIC)), cache, near


def test_a_public_page_is_answered_from_memory_until_its_snippets_change():
    calls: list = []
    client, cache, near = served(calls)
    first = client.get("/p/A")
    second = client.get("/p/A")
    assert calls == ["/p/A"] and second.data == first.data and second.headers == first.headers
    near.changed = True
    client.get("/p/A")
    assert calls == ["/p/A", "/p/A"]


def test_only_plain_gets_of_public_200s_are_kept_or_answered():
    calls: list = []
    client, cache, _ = served(calls)
    client.get("/p/A?currency=USD")
    client.get("/p/A?currency=USD")
    client.head("/p/A")
    client.head("/p/A")
    assert len(calls) == 4 and cache.stats()["pages"] == 0
    client.get("/p/A")
    client.get("/p/A", headers={"If-None-Match": '"x"'})  # a conditional request is the app's to answer
    client.set_cookie("customer_name", "Ada")
    client.get("/p/A")
    assert len(calls) == 7
    for kwargs in ({"cache_control": "no-store"}, {"cache_control": "private, no-cache"}, {"status": 404}):
        calls = []
        client, cache, _ = served(calls, **kwargs)
        client.get("/p/A")
        client.get("/p/A")
        assert len(calls) == 2 and cache.stats()["pages"] == 0, kwargs


def test_the_byte_budget_drops_the_oldest_pages():
    calls: list = []
    client, cache, _ = served(calls, size=3000, max_bytes=3 * 4000)
    for sku in "ABCDE":
        client.get(f"/p/{sku}")
    assert cache.stats()["bytes"] <= 3 * 4000
    assert list(cache._pages) == ["1 /p/C", "1 /p/D", "1 /p/E"]  # by generation and path
