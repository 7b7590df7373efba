"""The stored search templates of Elasticsearch: the one definition of every query both front ends
send (docs/search-sharing.md).

Each file ``search/templates/<id>.mustache`` is stored as the mustache script ``<id>``; a changed
template gets a new id (``-v2``), so old and new code can run side by side. Installing is a
``PUT _scripts/<id>`` per template: idempotent, and cheap enough to do whenever a generation is
ensured and once per process before the first read.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from elasticsearch import Elasticsearch

LISTING = "snipshop-listing-v1"
LISTING_FACETS = "snipshop-listing-facets-v1"
FACET_NAMES = "snipshop-facet-names-v1"
SUGGEST = "snipshop-suggest-v1"
TEMPLATES = (LISTING, LISTING_FACETS, FACET_NAMES, SUGGEST)


@cache
def source(template_id: str) -> str:
    """The text of a template, exactly as stored."""
    return files("search").joinpath("templates", f"{template_id}.mustache").read_text(encoding="utf-8")


def install(client: Elasticsearch) -> None:
    """Store every template under its id (again: the same source changes nothing)."""
    for template_id in TEMPLATES:
        client.put_script(id=template_id, script={"lang": "mustache", "source": source(template_id)})
