"""Personalization variables: one pass, escaped values, defaults for anything missing or unknown."""

from vocab.keys import variable
from web.edge.personalize import fill, is_personal, values_from

PAGE = (
    f"<p>Hello, {variable('customer_name', 'guest')}</p><b>{variable('cart_count', '0')}</b>"
    f"<i>{variable('currency', 'EUR')}</i><u>{variable('unknown_thing', 'keep me')}</u>"
)


def test_defaults_when_no_cookie():
    values = values_from({}, "USD")
    assert fill(PAGE, values) == "<p>Hello, guest</p><b>0</b><i>USD</i><u>keep me</u>"
    assert not is_personal(values)


def test_values_fill_their_variables():
    values = values_from({"customer_name": "  Ada   Lovelace ", "cart_count": "3"}, "EUR")
    assert fill(PAGE, values) == "<p>Hello, Ada Lovelace</p><b>3</b><i>EUR</i><u>keep me</u>"
    assert is_personal(values)


def test_hostile_cookie_values_cannot_inject_markup():
    hostile = {
        "customer_name": '<script>alert(1)</script>"><!--v:cart_count-->9<!--/v-->',
        "cart_count": "1<img src=x onerror=alert(1)>",
    }
    html = fill(PAGE, values_from(hostile, "EUR"))
    assert "<script>" not in html and "<img" not in html and "<!--v:" not in html
    assert "&lt;script&gt;" in html and "<b>0</b>" in html  # invalid count takes the default


def test_overlong_names_are_cut():
    html = fill(PAGE, values_from({"customer_name": "x" * 500}, "EUR"))
    assert "x" * 40 in html and "x" * 41 not in html


def test_only_anonymous_frames_are_remembered():
    from web.edge import personalize
    from web.edge.pages import Frame

    frame = Frame(f"<h>{variable('customer_name', 'guest')}</h>", "", f"<t>{variable('currency', 'EUR')}</t>")
    personalize._anonymous_frame.cache_clear()
    for i in range(50):  # a client rotating its name must not fill the memo (nor keep the names)
        filled = personalize.frame(frame, values_from({"customer_name": f"Name{i}", "cart_count": str(i)}, "EUR"))
        assert filled.head == f"<h>Name{i}</h>"
    assert personalize._anonymous_frame.cache_info().currsize == 0
    assert personalize.frame(frame, values_from({}, "USD")).tail == "<t>USD</t>"
    assert personalize.frame(frame, values_from({}, "USD")).tail == "<t>USD</t>"
    assert personalize._anonymous_frame.cache_info().currsize == 1
    assert personalize._anonymous_frame.cache_info().hits == 1
