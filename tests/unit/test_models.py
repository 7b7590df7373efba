"""Write-side input models: money as strings, explicit time zones, configured locales."""

from datetime import UTC, timedelta

import pytest
from pydantic import ValidationError

from catalog.models import MovementIn, OfferIn, PriceIn, ProductIn, StockIn


def test_offer_times_need_an_explicit_offset_and_accept_minus_zero():
    offer = OfferIn.model_validate(
        {"amount": "9.99", "starts_at": "2026-12-01T00:00:00-00:00", "ends_at": "2026-12-01T10:00:00+01:00"}
    )
    assert offer.starts_at.utcoffset() == timedelta(0)
    assert offer.ends_at.astimezone(UTC).hour == 9
    with pytest.raises(ValidationError, match="UTC offset"):
        OfferIn.model_validate(
            {"amount": "1.00", "starts_at": "2026-12-01T00:00:00", "ends_at": "2026-12-02T00:00:00Z"}
        )
    with pytest.raises(ValidationError, match="after starts_at"):
        OfferIn.model_validate(
            {"amount": "1.00", "starts_at": "2026-12-02T00:00:00Z", "ends_at": "2026-12-01T00:00:00Z"}
        )


@pytest.mark.parametrize("amount", [12.5, "12.345", "-1.00", "1e3", "", None])
def test_money_is_a_non_negative_decimal_string(amount):
    with pytest.raises(ValidationError, match="decimal string"):
        PriceIn.model_validate({"amount": amount})


def test_stock_and_movements():
    with pytest.raises(ValidationError):
        StockIn.model_validate({"quantity": -1})
    with pytest.raises(ValidationError):
        StockIn.model_validate({"quantity": "5"})
    with pytest.raises(ValidationError, match="zero"):
        MovementIn.model_validate({"movement_id": "m", "delta": 0})


def test_products_only_in_configured_locales_and_no_unknown_fields():
    context = {"locales": ["en_US"], "currencies": ["EUR"]}
    with pytest.raises(ValidationError, match="not one of the shop's locales"):
        ProductIn.model_validate({"name": {"fr_FR": "x"}}, context=context)
    with pytest.raises(ValidationError, match="Extra inputs"):
        ProductIn.model_validate({"name": {"en_US": "x"}, "colour": "red"}, context=context)
    p = ProductIn.model_validate({"name": {"en_US": "x"}, "attributes": {"size": ["S", "M", "S"]}}, context=context)
    assert p.attribute_rows() == [("size", "S", 0), ("size", "M", 1)]
