"""The key scheme and the stored value format."""

import json
from pathlib import Path

from vocab.keys import Context, KeyScheme, Kind, join_value, split_value

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "keys.json"


def test_keys_match_the_shared_fixture():
    """The fixture is the cross-language check of the key scheme: a front end in another language
    (a PHP one is planned) can test itself against the same examples."""
    keys = KeyScheme("ss")
    for case in json.loads(FIXTURE.read_text()):
        ctx = Context(case["locale"], case["currency"])
        built = keys.snippet(case["generation"], Kind(case["kind"]), ctx, case.get("id", "_"))
        assert built == case["key"], case


def test_product_keys_share_one_hash_tag():
    keys = KeyScheme("ss")
    page = keys.product_page(7, Context("de_DE", "USD"), "MH01-XS-Black")
    assert {k[k.index("{") :] for k in page[1:-1]} == {"{MH01-XS-Black}"}
    assert page[0] == "ss:7:frame:de_DE:{_}" and page[-1] == "ss:7:labels:de_DE:{_}"


def test_money_kinds_are_per_currency_and_text_kinds_are_not():
    keys = KeyScheme("x")
    ctx = Context("en_US", "EUR")
    assert keys.snippet(1, Kind.PRICE, ctx, "A") == "x:1:price:en_US.EUR:{A}"
    assert keys.snippet(1, Kind.DETAIL, ctx, "A") == "x:1:detail:en_US:{A}"


def test_value_round_trip_and_tombstone():
    assert split_value(join_value(42, "<p>x\ny</p>").encode()) == (42, "<p>x\ny</p>")
    assert split_value(b"7\n") == (7, "")
    assert split_value(None) is None
