"""Attribute codes: one rule for the admin API, feed files, the Magento converter and the search side.

A code as written (an ``attr.<code>`` feed column, a key of a product's ``attributes``) is 1 to 40
ASCII letters of either case, digits and underscores, starting with a letter or a digit
(``color``, ``Shape``, ``4g``, ``4g_standards``). Hyphens, dots, spaces and anything beyond ASCII
are not part of a code (real PIM exports such as Akeneo and Magento use none of them).

A code is stored, indexed, faceted and put in URLs in its canonical form, lower case: ``Shape``
and ``shape`` are the same attribute. So every canonical code matches
:data:`CANONICAL_ATTRIBUTE_CODE_PATTERN`, and a facet's URL parameter name is always one of
``[a-z0-9_]``.
"""

from __future__ import annotations

import re

#: A code as written (no anchors: match it whole, with ``fullmatch``).
ATTRIBUTE_CODE_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_]{0,39}"
#: A canonical code: what the database, the search index, facets and URLs hold.
CANONICAL_ATTRIBUTE_CODE_PATTERN = r"[a-z0-9][a-z0-9_]{0,39}"
ATTRIBUTE_CODE_RE = re.compile(ATTRIBUTE_CODE_PATTERN)
CANONICAL_ATTRIBUTE_CODE_RE = re.compile(CANONICAL_ATTRIBUTE_CODE_PATTERN)


def canonical_attribute_code(code: str) -> str | None:
    """The canonical (lower-case) form of ``code``, or None if ``code`` is not an attribute code.

    The code is checked before it is lowered: ``str.lower`` maps some non-ASCII letters (the
    Kelvin sign) onto ASCII ones, and those must stay refused."""
    return code.lower() if ATTRIBUTE_CODE_RE.fullmatch(code) else None


def readable_attribute_code(code: str) -> str:
    """A label for a code that has none: ``features_bags`` → ``Features bags``."""
    return " ".join(code.split("_")).strip().capitalize() or code
