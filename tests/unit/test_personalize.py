"""Personalization variables: one pass, escaped values, defaults for anything missing or unknown."""

from vocab.keys import variable
from web.edge import personalize
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


def test_frames_are_remembered_with_shared_values_only():
    from web.edge import personalize
    from web.edge.pages import Frame

    frame = Frame(f"<h>{variable('customer_name', 'guest')}</h>", "", f"<t>{variable('currency', 'EUR')}</t>")
    personalize._anonymous_frame.cache_clear()
    personalize._shared_frame.cache_clear()
    for i in range(50):  # a client rotating its name must not fill the memo (nor keep the names)
        values = values_from({"customer_name": f"Name{i}", "cart_count": str(i)}, "EUR")
        filled = personalize.frame(frame, values)
        assert filled.head == f"<h>{variable('customer_name', 'guest')}</h>" and filled.tail == "<t>EUR</t>"
        assert fill(filled.wrap("", ""), values) == f"<h>Name{i}</h><t>EUR</t>"  # the page fills the rest
    assert personalize._shared_frame.cache_info().currsize == 1
    assert personalize._anonymous_frame.cache_info().currsize == 0
    assert personalize.frame(frame, values_from({}, "USD")).tail == "<t>USD</t>"
    assert personalize.frame(frame, values_from({}, "USD")).head == "<h>guest</h>"
    assert personalize._anonymous_frame.cache_info().currsize == 1
    assert personalize._anonymous_frame.cache_info().hits == 1


def test_a_template_keeps_no_shoppers_value_and_renders_as_one_fill():
    values = values_from({"customer_name": "<Ada>", "cart_count": "7"}, "USD", "https://img.example/")
    page = PAGE + f'<img src="{variable("image_base", "")}x.jpg">'
    template = personalize.template(personalize.fill_shared(page, values))
    assert not any("Ada" in (part if isinstance(part, str) else part[1]) for part in template)
    assert [part for part in template if not isinstance(part, str)] == [("customer_name", "guest"), ("cart_count", "0")]
    assert personalize.render(template, values) == fill(page, values)
    assert "Hello, &lt;Ada&gt;" in fill(page, values) and "https://img.example/x.jpg" in fill(page, values)
    encoded = personalize.Encoded.of(template)
    for shopper in (values, values_from({"cart_count": "2"}, "USD", "https://img.example/")):
        assert encoded.render(shopper) == fill(page, shopper).encode()  # defaults where a value is missing
