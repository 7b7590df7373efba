"""ServeListings and ListingResponses (web/edge/listing_bodies.py) with a stand-in near cache,
stand-in epochs and a tiny WSGI app: what is kept, what is answered from memory, what retires it."""

from __future__ import annotations

from werkzeug.test import Client
from werkzeug.wrappers import Response

from search.query import Result
from web.edge.listing_bodies import Body, ListingResponses, ServeListings, note
from web.revision import GENERATION

PUBLIC = "public, max-age=5"


class Near:
    def __init__(self) -> None:
        self.changed = False

    def still_holds(self, keys, held):
        return not self.changed


class Epochs:
    def __init__(self) -> None:
        self.epoch: int | None = 1

    def __call__(self) -> int | None:
        return self.epoch


BODY = Body(Result((), 0), ("k",), (), b"frame", "t", "<b>")


def served(kept_epoch: int | None = 1, cache_control: str = PUBLIC, max_bytes: int = 2**20):
    calls: list = []
    near, epochs = Near(), Epochs()

    def app(environ, start_response):
        calls.append(environ["PATH_INFO"] + "?" + environ["QUERY_STRING"])
        note(environ, environ[GENERATION], kept_epoch, BODY)
        response = Response("listing " + environ["QUERY_STRING"])
        response.headers["Cache-Control"] = cache_control
        return response(environ, start_response)

    responses = ListingResponses(near, epochs, max_bytes)  # type: ignore[arg-type]
    serve = ServeListings(app, responses, PUBLIC)

    def with_generation(environ, start_response):
        environ[GENERATION] = 7
        return serve(environ, start_response)

    return Client(with_generation), calls, near, epochs


def test_a_listing_is_answered_whole_until_a_change_is_announced_or_a_snippet_changes():
    client, calls, near, epochs = served()
    first = client.get("/c/bags?color=Red")
    second = client.get("/c/bags?color=Red")
    assert len(calls) == 1 and second.data == first.data and second.headers == first.headers
    client.get("/c/bags?color=Blue")  # another query string: its own answer
    assert len(calls) == 2
    epochs.epoch = 2  # the projector announced a change
    client.get("/c/bags?color=Red")
    client.get("/c/bags?color=Red")
    assert len(calls) == 4  # asked once more, then the new answer is not kept: its result was of epoch 1
    near.changed = True
    client.get("/search?q=bag")
    assert len(calls) == 5


def test_only_anonymous_public_listings_whose_result_is_kept_are_kept():
    client, calls, _, _ = served(kept_epoch=None)  # the search result was not kept
    client.get("/c/bags")
    client.get("/c/bags")
    assert len(calls) == 2
    client, calls, _, _ = served(cache_control="private, no-cache")
    client.get("/c/bags")
    client.get("/c/bags")
    assert len(calls) == 2
    client, calls, _, _ = served()
    client.set_cookie("locale", "de_DE")
    client.get("/c/bags")
    client.get("/c/bags")
    assert len(calls) == 2
    client, calls, _, _ = served()
    client.get("/p/A")
    client.get("/p/A")
    client.get("/c/bags", headers={"If-None-Match": '"x"'})
    client.get("/c/bags", headers={"If-None-Match": '"x"'})
    assert len(calls) == 4


def test_the_byte_budget_lets_the_oldest_go():
    client, calls, _, _ = served(max_bytes=1300)  # room for two answers
    for query in ("a=1", "a=2", "a=3", "a=1"):
        client.get(f"/c/bags?{query}")
    assert len(calls) == 4
