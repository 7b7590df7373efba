"""What listings depend on (projector/listing_changes.py): changes that can alter a search answer
change the digest; a stock movement that keeps a product available does not."""

from dataclasses import replace
from decimal import Decimal

from projector.listing_changes import digest
from search.documents import SearchDocument, VariantDocument

DOC = SearchDocument(
    sku="S1",
    version=3,
    visible=True,
    created_at=1_700_000_000,
    brand="Acme",
    category_paths=("bags",),
    attributes={"color": ("Red",)},
    names={"en_US": "Red bag"},
    prices={"EUR": Decimal("10.00")},
    availability="in_stock",
    variants=(VariantDocument("S1-M", {"size": "M"}, {"EUR": Decimal("10.00")}, "in_stock"),),
)


def test_changes_that_listings_show_change_the_digest():
    variant = DOC.variants[0]
    changed = [
        replace(DOC, visible=False),
        replace(DOC, category_paths=("shoes",)),
        replace(DOC, brand="Other"),
        replace(DOC, attributes={"color": ("Blue",)}),
        replace(DOC, names={"en_US": "Blue bag"}),
        replace(DOC, descriptions={"en_US": "roomy"}),
        replace(DOC, created_at=1),
        replace(DOC, prices={"EUR": Decimal("9.99")}),
        replace(DOC, availability="sold_out"),
        replace(DOC, variants=(replace(variant, availability="sold_out"),)),
        replace(DOC, variants=(replace(variant, prices={"EUR": Decimal("11")}),)),
        replace(DOC, variants=(replace(variant, options={"size": "L"}),)),
    ]
    assert len({digest(d) for d in changed} | {digest(DOC)}) == len(changed) + 1


def test_a_new_version_or_low_stock_leaves_the_digest_alone():
    same = [
        replace(DOC, version=4),
        replace(DOC, availability="low_stock"),
        replace(DOC, variants=(replace(DOC.variants[0], availability="low_stock"),)),
        replace(DOC, prices={"EUR": Decimal("10.0")}),
    ]
    assert {digest(d) for d in same} == {digest(DOC)}
