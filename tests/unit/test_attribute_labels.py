"""Attribute labels per locale: the fallback rule, the feed kind, the labels snippet and where the
edge shows them (facet headings, chips, the product page's details), escaped (no services)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from projector.readmodel import ProductView
from projector.render import Renderer
from search.query import Facet, FacetValue, Result, parse
from tests.unit.feed_rows import parse_feed
from vocab.attributes import readable_attribute_code
from vocab.i18n import AttributeLabels, attribute_label, messages
from vocab.keys import Kind, join_value
from web.edge import listing, pages

LOCALES = ("en_US", "de_DE")
R = Renderer(LOCALES, ("EUR",), low_stock_threshold=5)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)


def test_a_code_without_a_label_reads_as_words():
    assert readable_attribute_code("features_bags") == "Features bags"
    assert readable_attribute_code("4g_standards") == "4g standards"
    assert readable_attribute_code("color") == "Color"


def test_the_label_falls_back_from_the_locale_to_the_dictionary_to_the_default_locale_to_the_code():
    stored = {"en_US": "Features"}
    assert attribute_label("features_bags", "en_US", stored, LOCALES) == "Features"
    assert attribute_label("features_bags", "de_DE", stored, LOCALES) == "Features"  # the default locale's
    assert attribute_label("features_bags", "de_DE", {"de_DE": "Ausstattung", **stored}, LOCALES) == "Ausstattung"
    assert attribute_label("features_bags", "de_DE", {}, LOCALES) == "Features bags"
    # a common code: the dictionary's word in the shopper's language beats another locale's label
    assert attribute_label("color", "de_DE", {"en_US": "Colour"}, LOCALES) == "Farbe"
    assert attribute_label("color", "en_US", {"en_US": "Colour"}, LOCALES) == "Colour"
    assert attribute_label("color", "fr_FR") == "Color"  # a language without a dictionary: English
    assert AttributeLabels("de_DE", {"strap_bags": "Riemen"})("strap_bags") == "Riemen"
    assert AttributeLabels("de_DE", {})("strap_bags") == "Strap bags"


def test_attributes_csv_gives_labels_per_locale_with_codes_in_canonical_form():
    rows = parse_feed(
        "attributes",
        "code,label.en_US,label.de_DE\n"
        "features_bags,Features,Ausstattung\n"
        "Strap_Bags,Strap/Handle,\n"
        "bad-code,Bad,\n"
        "color,Colour,Farbe\n"
        "pattern,,\n"
        "size,Size,x" + "y" * 100 + "\n",
    )
    assert rows[0].item[0] == "features_bags"
    assert rows[0].item[1].label == {"en_US": "Features", "de_DE": "Ausstattung"}
    assert rows[1].item[0] == "strap_bags" and rows[1].item[1].label == {"en_US": "Strap/Handle"}
    assert rows[1].key == "Strap_Bags"  # the report names the row as written
    assert rows[2][:2] == (4, "bad-code") and "attribute code 'bad-code'" in rows[2][2]
    assert rows[4].item[0] == "pattern" and rows[4].item[1].label == {}  # empty cells: the labels are removed
    assert rows[5][:2] == (7, "size") and "label.de_DE" in rows[5][2] and "100" in rows[5][2]
    [bad] = list(parse_feed("attributes", "code,label.fr_FR\ncolor,Couleur\n"))
    assert "locale 'fr_FR' is not one of the shop's locales" in bad[2]


def test_the_labels_snippet_holds_each_locales_labels_and_leaves_unlabelled_codes_to_the_fallback():
    stored = {
        "features_bags": {"en_US": "Features"},
        "color": {"en_US": "Colour", "de_DE": "Farbton"},
        "strap_bags": {"de_DE": "Riemen"},
        "pattern": {},
    }
    en, de = R.labels(42, stored)
    assert (en.kind, en.ctx.locale, en.ident, en.version) == (Kind.LABELS, "en_US", "_", 42)
    assert json.loads(en.body) == {"color": "Colour", "features_bags": "Features", "strap_bags": "Riemen"}
    assert json.loads(de.body) == {"color": "Farbton", "features_bags": "Features", "strap_bags": "Riemen"}
    assert "<" not in R.labels(1, {"x": {"en_US": "</script><b>"}})[0].body  # JSON safe anywhere


def facet_heading(html: str, name: str) -> str:
    return re.search(rf'data-facet-name="{name}"><summary><h3>(.*?)(?: <span class="picked">.*?)?</h3>', html).group(1)


def test_facet_headings_and_chips_show_the_label_escaped_and_the_fallback_for_the_rest():
    result = Result(
        ("A",),
        1,
        (
            Facet("brand", (FacetValue("Luma", 1, False),)),
            Facet("features_bags", (FacetValue("Pocket", 1, True),)),
            Facet("strap_bags", (FacetValue("Single", 1, False),)),
        ),
    )
    query = parse(
        {"features_bags": ["Pocket"]},
        locale="de_DE",
        currency="EUR",
        facet_names={"brand", "features_bags", "strap_bags"},
    )
    labels = AttributeLabels("de_DE", {"features_bags": "<b>Extras</b> & mehr"})
    body = listing.listing_body("<h1>X</h1>", query, result, ["<li>A</li>"], query.params(), messages("de_DE"), labels)
    assert facet_heading(body, "features_bags") == "&lt;b&gt;Extras&lt;/b&gt; &amp; mehr"
    assert facet_heading(body, "strap_bags") == "Strap bags"
    assert facet_heading(body, "brand") == "Marke"
    assert "&lt;b&gt;Extras&lt;/b&gt; &amp; mehr: Pocket" in body  # the chip of the selection
    assert "<b>Extras</b>" not in body and "features_bags:" not in body


def product() -> ProductView:
    return ProductView(
        "B1",
        "Luma",
        True,
        False,
        NOW,
        10,
        11,
        12,
        names={"en_US": "Bag"},
        attributes={"features_bags": ["Pocket"], "color": ["Red"]},
    )


def test_the_product_page_shows_the_labels_snippets_labels_escaped_and_else_the_fallback():
    detail = next(s for s in R.product(product(), {}, NOW, [Kind.DETAIL]) if s.ctx.locale == "de_DE").body
    assert "features_bags" not in pages.fill_labels(detail, {})
    assert "<dt>Features bags</dt>" in pages.fill_labels(detail, {})
    assert "<dt>Farbe</dt>" in pages.fill_labels(detail, {})
    filled = pages.fill_labels(detail, {"features_bags": "Extras <i>", "color": "Farbton"})
    assert "<dt>Extras &lt;i&gt;</dt>" in filled and "<dt>Farbton</dt>" in filled and "<!--" not in filled
    frame = pages.Frame("<html>", "", "</html>")
    page = pages.product_page(frame, detail, "", None, None, None, None, {"features_bags": "Extras"})
    assert "<dt>Extras</dt>" in page
    labels = pages.labels_of(join_value(3, R.labels(3, {"features_bags": {"en_US": "Extras"}})[1].body).encode())
    assert labels == {"features_bags": "Extras"} and pages.labels_of(None) == {}


@pytest.mark.parametrize("code", ["features_bags", "Features_Bags"])
def test_the_admin_path_parameter_takes_a_code_in_either_case(code):
    from snipshop.config import Settings
    from web.admin.inputs import PATH_PARAMS

    assert PATH_PARAMS["code"].check(code, Settings()) == "features_bags"
    with pytest.raises(ValueError, match="attribute code"):
        PATH_PARAMS["code"].check("features-bags", Settings())
