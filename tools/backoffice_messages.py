"""The back office's messages (web/backoffice/): every text its templates and code give to
gettext, found as ``pybabel extract`` finds them, with the tables of messages that are looked up
by value (pydantic's error types, the write side's refusals).

``python -m tools.backoffice_messages de_DE`` lists the messages the locale's catalog
(web/backoffice/translations/<locale>.po) lacks; a unit test keeps the German one complete
(tests/unit/test_backoffice_i18n.py).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from babel.messages.extract import extract_from_dir

from web.backoffice.editor_forms import PYDANTIC_MESSAGES
from web.backoffice.translation import REFUSALS, catalog

ROOT = Path(__file__).resolve().parents[1] / "web" / "backoffice"
METHODS = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
KEYWORDS: dict[str, Any] = {"_": None, "gettext": None, "ngettext": (1, 2)}


def messages() -> set[Any]:
    """Every message id: a string, or (singular, plural) for a plural message."""
    found: set[Any] = set(PYDANTIC_MESSAGES.values()) | {message for _pattern, message in REFUSALS}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), METHODS, keywords=KEYWORDS, options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    ):
        found.add(tuple(message) if isinstance(message, tuple | list) else message)
    found.discard("")
    return found


def missing(locale: str) -> list[Any]:
    have = catalog(locale)
    return sorted((m for m in messages() if m not in have), key=str)


def main() -> int:
    locale = sys.argv[1] if len(sys.argv) > 1 else "de_DE"
    lacking = missing(locale)
    for message in lacking:
        print(repr(message))
    print(f"{len(lacking)} of {len(messages())} messages lack a translation in {locale}", file=sys.stderr)
    return 1 if lacking else 0


if __name__ == "__main__":
    sys.exit(main())
