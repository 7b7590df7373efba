"""Money written as text: one rule for the admin API, feed files and the shoppers' price filters.

An amount is a non-negative decimal with at most ten digits before the point and two after
(``12``, ``12.3``, ``12.34``). Nothing else is read as money: no exponents, signs, spaces inside,
``NaN`` or ``Infinity``, so no input can make an amount cost more than its few characters.
"""

from __future__ import annotations

import re
from decimal import Decimal

MONEY_PATTERN = r"[0-9]{1,10}(\.[0-9]{1,2})?"
MONEY_RE = re.compile(MONEY_PATTERN)
MAX_AMOUNT = Decimal("9999999999.99")


def parse_amount(text: str) -> Decimal | None:
    """The amount ``text`` spells by the rule above (surrounding blanks ignored), else None."""
    text = text.strip()
    return Decimal(text) if MONEY_RE.fullmatch(text) else None
