"""Attribute codes as real PIM exports write them, and keys checked whole (no services).

A code is ASCII letters of either case, digits and underscores, starting with a letter or a digit,
at most 40 characters; it is stored in lower case, and codes that differ only in case are one
attribute whose values merge. Keys (SKU, category key, currency, locale) match as a whole: a
trailing newline is not "the end of the line".
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from catalog.models import CategoryIn, ProductIn, valid_category_key, valid_sku
from tests.unit.feed_rows import CONTEXT, parse_feed


def product(attributes: dict) -> ProductIn:
    return ProductIn.model_validate({"name": {"en_US": "Phone"}, "attributes": attributes}, context=CONTEXT)


def test_codes_of_real_exports_are_accepted_and_lower_cased():
    p = product(
        {
            "Shape": "Round",
            "4g": "yes",
            "4g_standards": ["LTE", "HSPA+"],
            "Screen_Size_Inch": "6",
            "x": "1",
            "A" * 40: "long",
        }
    )
    assert list(p.attributes) == ["shape", "4g", "4g_standards", "screen_size_inch", "x", "a" * 40]
    assert p.attribute_rows()[:4] == [
        ("shape", "Round", 0),
        ("4g", "yes", 0),
        ("4g_standards", "LTE", 0),
        ("4g_standards", "HSPA+", 1),
    ]


def test_codes_differing_only_in_case_are_one_attribute_with_merged_values():
    p = product({"Shape": ["Round", "Oval"], "shape": ["Oval", "Square"], "SHAPE": "Round", "color": "Red"})
    assert p.attributes == {"shape": ["Round", "Oval", "Square"], "color": "Red"}
    assert p.attribute_rows() == [
        ("shape", "Round", 0),
        ("shape", "Oval", 1),
        ("shape", "Square", 2),
        ("color", "Red", 0),
    ]


def test_other_codes_are_refused_saying_what_a_code_is():
    for code in (
        "bad-name",
        "_private",
        "a.b",
        "has space",
        "a" * 41,
        "größe",
        "\u212aelvin",
        "color\u0307",
        "é",
        "4G\n",
    ):
        with pytest.raises(
            ValidationError,
            match="attribute code .* must be 1 to 40 letters, digits or underscores, starting with a letter or a digit",
        ):
            product({code: "x"})


def test_feed_columns_differing_only_in_case_merge():
    rows = parse_feed(
        "products",
        "sku,name.en_US,attr.Shape,attr.shape,attr.4g,attr.4g_standards\n"
        "P1,Phone,Round,Round|Oval,yes,LTE|UMTS\n"
        "P2,Case,,Square,,\n"
        "P3,Cable,Flat,,no,\n",
    )
    assert [r.item[1].attributes for r in rows] == [
        {"shape": ["Round", "Oval"], "4g": "yes", "4g_standards": ["LTE", "UMTS"]},
        {"shape": "Square"},
        {"shape": "Flat", "4g": "no"},
    ]


@pytest.mark.parametrize("check, value", [(valid_sku, "ABC\n"), (valid_category_key, "bags\n")])
def test_keys_ending_in_a_newline_are_refused(check, value):
    with pytest.raises(ValueError, match="must match"):
        check(value)


@pytest.mark.parametrize(
    "body",
    [
        {"parent": "gear\n", "name": {"en_US": "Bags"}},
        {"parent": " gear", "name": {"en_US": "Bags"}},
        {"name": {"en_US\n": "Bags"}},
    ],
)
def test_keys_in_a_body_are_checked_as_sent(body):
    context = {"locales": None, "currencies": None}  # the pattern alone, not the shop's list
    with pytest.raises(ValidationError):
        CategoryIn.model_validate(body, context=context)
