"""The parity check's comparison (tests/e2e/php_support.py): what counts as the same answer."""

from __future__ import annotations

from dataclasses import replace

from tests.e2e.php_support import COMPARED, Answer, Req, differences, links, request_id_problems, same_cookies

FLASK = "locale=de_DE; Expires=Sun, 05 Dec 2027 21:06:33 GMT; Max-Age=31536000; HttpOnly; Path=/; SameSite=Lax"


def answer(body: bytes = b"<p>a</p>", status: int = 200, cookies: tuple[str, ...] = (), **headers: str) -> Answer:
    values = {"Content-Type": "text/html; charset=utf-8", **{k.replace("_", "-"): v for k, v in headers.items()}}
    return Answer(status, tuple((name, values.get(name)) for name in COMPARED), cookies, body)


def test_cookies_are_the_same_in_any_attribute_order_and_case_and_expires_a_second_later():
    php = "locale=de_DE; expires=Sun, 05 Dec 2027 21:06:34 GMT; Max-Age=31536000; path=/; HttpOnly; SameSite=Lax"
    assert same_cookies([FLASK], [php])


def test_cookies_differ_by_value_attribute_missing_cookie_or_a_far_expiry():
    assert not same_cookies([FLASK], [FLASK.replace("de_DE", "en_US")])
    assert not same_cookies([FLASK], [FLASK.replace("; HttpOnly", "")])
    assert not same_cookies([FLASK], [])
    assert not same_cookies([FLASK], [FLASK.replace("21:06:33", "21:07:33")])


def test_answers_differ_by_status_header_or_body_with_a_diff_of_the_body():
    same = answer()
    assert differences(same, answer()) == []
    assert differences(same, answer(status=404)) == ["status: edge 200, PHP 404"]
    assert differences(answer(Cache_Control="no-store"), same) == ["Cache-Control: edge 'no-store', PHP None"]
    (body,) = differences(same, answer(b"<p>b</p>"))
    assert "-a</p>" in body and "+b</p>" in body


def test_request_ids_are_echoed_when_sane_else_fresh_and_never_compared_across():
    fresh = [replace(answer(), request_id=rid) for rid in ("0" * 32, "f" * 32)]
    assert request_id_problems(Req("/"), *fresh) == []  # two fresh ids, not the same one
    sent = Req("/", headers=(("X-Request-Id", "trace-1"),))
    echoed = replace(answer(), request_id="trace-1")
    assert request_id_problems(sent, echoed, echoed) == []
    (problem,) = request_id_problems(sent, echoed, fresh[0])
    assert problem.startswith("X-Request-Id: PHP sent '0000")
    insane = Req("/", headers=(("X-Request-Id", "bad id"),))
    assert request_id_problems(insane, fresh[0], replace(answer(), request_id="bad id"))
    assert request_id_problems(Req("/"), fresh[0], answer())  # none at all


def test_links_are_the_shops_own_paths_with_their_queries():
    body = b'<a href="#main">x</a><a href="?q=a&amp;sort=name">s</a><a href="/p/X">p</a><a href="https://x.test/">o</a>'
    assert links("/search?q=a", body) == ["/search?q=a&sort=name", "/p/X"]
