"""The canary's bucket rule (web/edge/shopper_buckets.py): which shopper is served which generation."""

from collections import Counter

from vocab.keys import CanaryRecord
from web.edge.shopper_buckets import AssignGeneration, bucket_of, draw_bucket, generation_for
from web.revision import GENERATION

CANARY = CanaryRecord(generation=8, base=7, percent=20, started_at=0.0)


def test_buckets_below_the_percent_are_served_the_canary():
    assert [generation_for(b, 7, CANARY) for b in (0, 19, 20, 99)] == [8, 8, 7, 7]
    assert sum(generation_for(b, 7, CANARY) == 8 for b in range(100)) == 20
    assert generation_for(0, 7, None) == 7  # no canary: everyone on the live generation


def test_the_bucket_cookie_is_read_and_taken_out_of_the_cookie_header():
    assert bucket_of(None) == (None, None)
    assert bucket_of("bucket=7") == (7, None)
    assert bucket_of("locale=de_DE; bucket=42; currency=USD") == (42, "locale=de_DE; currency=USD")
    assert bucket_of("locale=de_DE; bucket=42") == (42, "locale=de_DE")
    assert bucket_of("locale=de_DE") == (None, "locale=de_DE")
    assert bucket_of("bucket=100")[0] is None  # 0-99 only
    assert bucket_of("bucket=x")[0] is None
    assert bucket_of("mybucket=5") == (None, "mybucket=5")


def test_drawn_buckets_cover_0_to_99_evenly():
    drawn = Counter(draw_bucket() for _ in range(20_000))
    assert set(drawn) == set(range(100))
    assert max(drawn.values()) < 2 * min(drawn.values())


def call(environ, canary, live=7):
    seen = {}

    def app(env, start_response):
        seen.update(env)
        start_response("200 OK", [("Content-Type", "text/plain"), ("Cache-Control", "public, max-age=60")])
        return [b"ok"]

    headers = []
    AssignGeneration(app, lambda: (live, canary))(
        {"PATH_INFO": "/p/A", **environ}, lambda status, h, exc_info=None: headers.extend(h)
    )
    return seen, dict(headers)


def test_a_shopper_with_a_bucket_keeps_it_and_the_app_never_sees_it():
    seen, headers = call({"HTTP_COOKIE": "bucket=3"}, CANARY)
    assert seen[GENERATION] == 8 and "HTTP_COOKIE" not in seen and "Set-Cookie" not in headers
    assert headers["Cache-Control"] == "public, max-age=60"
    seen, headers = call({"HTTP_COOKIE": "bucket=55; locale=de_DE"}, CANARY)
    assert seen[GENERATION] == 7 and seen["HTTP_COOKIE"] == "locale=de_DE"


def test_a_shopper_without_a_bucket_gets_one_only_while_a_canary_runs():
    seen, headers = call({}, CANARY)
    bucket = int(headers["Set-Cookie"].split(";")[0].removeprefix("bucket="))
    assert seen[GENERATION] == (8 if bucket < 20 else 7)
    assert "Max-Age=31536000" in headers["Set-Cookie"]
    assert headers["Cache-Control"] == "private, no-cache"  # that shopper's answer, for no shared cache
    seen, headers = call({}, None)
    assert seen[GENERATION] == 7 and "Set-Cookie" not in headers
    assert headers["Cache-Control"] == "public, max-age=60"
    seen, headers = call({"PATH_INFO": "/healthz"}, CANARY)
    assert GENERATION not in seen and "Set-Cookie" not in headers
