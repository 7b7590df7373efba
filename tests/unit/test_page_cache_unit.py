"""ServeCached and PageCache with a stand-in near cache and a tiny WSGI app: what is kept, what
is answered from memory, and the byte budget."""

from __future__ import annotations

from werkzeug.test import Client
from werkzeug.wrappers import Response

from vocab.keys import variable
from web.edge import personalize
from web.edge.context import PersonalShopper
from web.edge.pagecache import TEMPLATE, PageCache, ServeCached, mark

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
    assert list(cache._pages) == [(1, "/p/C", ""), (1, "/p/D", ""), (1, "/p/E", "")]  # by generation and path


# --- personal pages: kept as templates, never as a shopper's bytes --------------------------

PRIVATE = "private, no-cache"
NAME = variable("customer_name", "guest")
COUNT = variable("cart_count", "0")


def personal_app(calls: list, cache_control: str = PRIVATE, leave_template: bool = True, set_cookie: bool = False):
    """A personal page as the edge makes one: its template left for the cache, the values filled."""

    def app(environ, start_response):
        calls.append(environ["PATH_INFO"])
        mark(environ, 1, ["k"], [b"v"])
        found = shopper(environ["HTTP_COOKIE"])
        if found is None:  # no personal value: a public page
            return Response("anonymous", headers={"Cache-Control": PUBLIC})(environ, start_response)
        template = personalize.template(f"<p>{environ['PATH_INFO']} €, {NAME}: {COUNT}</p>")
        if leave_template:
            environ[TEMPLATE] = template
        response = Response(personalize.render(template, found[1]), content_type="text/html; charset=utf-8")
        response.headers["Vary"] = "Cookie"
        response.headers["Cache-Control"] = cache_control
        if set_cookie:
            response.set_cookie("currency", "USD")
        return response(environ, start_response)

    return app


shopper = PersonalShopper(("en_US", "de_DE"), ("EUR", "USD"))


def served_personal(calls, **kwargs):
    near = Near()
    cache = PageCache(near, lambda: 1, 2**20)
    return ServeCached(personal_app(calls, **kwargs), cache, PUBLIC, PRIVATE, shopper), cache, near


def get_as(app, path: str, cookie: str):
    return Client(app, use_cookies=False).get(path, headers={"Cookie": cookie})


def test_a_personal_page_is_kept_as_a_template_and_filled_for_each_shopper():
    calls: list = []
    app, cache, near = served_personal(calls)
    ada = get_as(app, "/p/A", "customer_name=Ada; cart_count=2")
    assert ada.text == "<p>/p/A €, Ada: 2</p>" and calls == ["/p/A"]
    bob = get_as(app, "/p/A", 'customer_name="<b>Bob</b>"; cart_count=12')
    assert calls == ["/p/A"], "answered from the template"
    assert bob.text == "<p>/p/A €, &lt;b&gt;Bob&lt;/b&gt;: 12</p>"  # escaped, and nothing of Ada's
    assert bob.headers["Content-Length"] == str(len(bob.data)) and bob.headers["Cache-Control"] == PRIVATE
    assert "ETag" not in bob.headers and bob.headers["Vary"] == "Cookie"
    count_only = get_as(app, "/p/A", "cart_count=3; customer_name=")
    assert count_only.text == "<p>/p/A €, guest: 3</p>" and len(calls) == 1  # a default where no value
    for page in cache._pages.values():  # no shopper's value is kept
        assert page.body == b"" and page.template is not None
        assert b"Ada" not in b"".join(page.template.literals) and b"Bob" not in b"".join(page.template.literals)
    near.changed = True  # a snippet of the page changed: the next request assembles it anew
    assert get_as(app, "/p/A", "customer_name=Cy").text == "<p>/p/A €, Cy: 0</p>" and len(calls) == 2


def test_personal_pages_are_kept_per_context_and_never_answer_anonymous_requests():
    calls: list = []
    app, cache, _ = served_personal(calls)
    get_as(app, "/p/A", "customer_name=Ada")
    get_as(app, "/p/A", "customer_name=Ada; currency=USD")  # another context: its own template
    get_as(app, "/p/A", "customer_name=Ada; currency=XYZ")  # an unknown currency is the default's
    assert calls == ["/p/A", "/p/A"]
    assert sorted(slot[2] for slot in cache._pages) == ["en_US EUR", "en_US USD"]
    for cookie in ("locale=de_DE", "cart_count=x", 'customer_name="  "', ""):  # no personal value: the app's
        assert get_as(app, "/p/A", cookie).text == "anonymous"
        assert get_as(app, "/p/A", cookie).text == "anonymous"
    assert len(calls) == 2 + 8 and cache.stats()["pages"] == 2


def test_only_private_personal_200s_without_cookies_set_are_kept():
    for kwargs in ({"cache_control": "no-store"}, {"leave_template": False}, {"set_cookie": True}):
        calls: list = []
        app, cache, _ = served_personal(calls, **kwargs)
        get_as(app, "/p/A", "customer_name=Ada")
        get_as(app, "/p/A", "customer_name=Ada")
        get_as(app, "/p/A?x=1", "customer_name=Ada")
        assert len(calls) == 3 and cache.stats()["pages"] == 0, kwargs
