"""The Elasticsearch adapter of the search port: one index per generation behind one alias.

``{prefix}-products-{generation}`` indices; the alias ``{prefix}-products`` names the live one and
is moved atomically (one ``update_aliases`` call). Writes carry the document's source version as
an ``external_gte`` version, so an older document never replaces a newer one (409s are expected
and ignored) while the same version may be written again, like the snippet store does (an offer
starting changes the price a shopper pays without a new source version).

Reads call the stored search templates of search/templates/ (installed by :meth:`ensure_generation`
and once per object before its first read) with params from :mod:`search.elastic_params`, and read
the answers with :mod:`search.elastic_answers`: the PHP front end does the same
(docs/search-sharing.md).

Reads let connection and server errors propagate as the client's exceptions; the edge turns them
into 503. Writes raise :class:`search.port.SearchUnavailable` for the transient ones (every node
unreachable, 429/502/503/504), which projection tasks retry; other errors propagate.
See docs/search-elasticsearch.md.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence

from elasticsearch import (
    ApiError,
    BadRequestError,
    ConnectionTimeout,
    Elasticsearch,
    NotFoundError,
    helpers,
)
from elasticsearch import (
    ConnectionError as EsConnectionError,
)

from search import elastic_answers as answers
from search import elastic_templates as templates
from search.documents import BRAND, SearchDocument
from search.elastic_mapping import SERVING_SETTINGS, document_source, index_body, language_analysis_supported
from search.elastic_params import facets_params, listing_params, suggest_params
from search.port import SearchUnavailable
from search.query import Query, Result, Suggestion

log = logging.getLogger(__name__)

BULK_CHUNK = 1000
#: What a bulk answer needs to say per document: its id, status, and the error if it failed (the
#: whole answer repeats index, version, shards and sequence numbers for every document).
BULK_ANSWER = ("errors", "items.*._id", "items.*.status", "items.*.error")
#: Seconds one bulk request may take: a rebuild's processes write in bulk side by side, and a
#: busy node answers them slower than a query must be answered (a retried bulk is harmless: the
#: versions guard it).
BULK_TIMEOUT = 60
#: Seconds a rebuild waits for a generation's merge (a few seconds per 100,000 products).
COMPACT_TIMEOUT = 600
MAX_SUGGESTIONS = 20
#: Writes use ``refresh=False``: queries see them after the index's next refresh, which runs
#: every second (``index.refresh_interval``, the default); twice that, for a refresh running late.
VISIBLE_WITHIN = 2.0
#: HTTP statuses of a write that may succeed later: overloaded, or a shard without a primary
#: (a node lost, its replica not promoted yet).
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})


class ElasticIndex:
    """:class:`search.port.SearchIndex` on Elasticsearch 8.

    ``language_analysis``: None asks the server once per process whether the analysis plugin is
    there (:func:`search.elastic_mapping.language_analysis_supported`); True/False force a mode
    for the indices this object creates. Queries work against indices of either mode.
    """

    visible_within = VISIBLE_WITHIN

    def __init__(
        self,
        client: Elasticsearch,
        prefix: str,
        locales: Sequence[str],
        currencies: Sequence[str],
        *,
        language_analysis: bool | None = None,
        replicas: str = "0-1",
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.alias = f"{prefix}-products"
        self.locales = tuple(locales)
        self.currencies = tuple(currencies)
        self._language_analysis = language_analysis
        self.replicas = replicas
        self._templates_installed = False

    # -- generations

    @property
    def language_analysis(self) -> bool:
        if self._language_analysis is None:
            self._language_analysis = language_analysis_supported(self.client)
        return self._language_analysis

    def index_name(self, generation: int) -> str:
        return f"{self.alias}-{int(generation)}"

    def ensure_templates(self) -> None:
        """Store the search templates (idempotent); reads do it once per object by themselves."""
        templates.install(self.client)
        self._templates_installed = True

    def ensure_generation(self, generation: int, bulk: bool = False) -> None:
        self.ensure_templates()
        name = self.index_name(generation)
        if self.client.indices.exists(index=name):
            return
        try:
            self.client.indices.create(
                index=name, **index_body(self.locales, self.currencies, self.language_analysis, self.replicas, bulk)
            )
        except BadRequestError as e:
            if e.error != "resource_already_exists_exception":  # created meanwhile by another worker
                raise
        log.info("created search index %s (language analysis: %s)", name, self.language_analysis)

    def switch(self, generation: int) -> None:
        target = self.index_name(generation)
        actions = [{"remove": {"index": name, "alias": self.alias}} for name in self._aliased() if name != target]
        actions.append({"add": {"index": target, "alias": self.alias}})
        self.client.indices.update_aliases(actions=actions)

    @property
    def canary_alias(self) -> str:
        """The alias naming the canary's index while a canary runs (docs/canary.md)."""
        return f"{self.prefix}-products-canary"

    def point_canary(self, generation: int | None) -> None:
        try:
            held = list(self.client.indices.get_alias(name=self.canary_alias))
        except NotFoundError:
            held = []
        actions: list[dict] = [{"remove": {"index": name, "alias": self.canary_alias}} for name in held]
        if generation is not None:
            actions.append({"add": {"index": self.index_name(generation), "alias": self.canary_alias}})
        if actions:
            self.client.indices.update_aliases(actions=actions)

    def canary_view(self) -> ElasticIndex:
        view = copy.copy(self)
        view.alias = self.canary_alias
        return view

    def drop(self, generation: int) -> None:
        self.client.indices.delete(index=self.index_name(generation), ignore_unavailable=True)

    def live_generation(self) -> int | None:
        found = [self._generation_of(name) for name in self._aliased()]
        generations = [g for g in found if g is not None]
        return max(generations) if generations else None

    def _aliased(self) -> list[str]:
        try:
            return list(self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    def _generation_of(self, index: str) -> int | None:
        head, _, tail = index.rpartition("-")
        return int(tail) if head == self.alias and tail.isdigit() else None

    def refresh(self) -> None:
        """Refresh every generation, not only the alias: a rebuild refreshes before switching."""
        self.client.indices.refresh(index=f"{self.alias}-*", allow_no_indices=True)

    def compact(self, generation: int) -> None:
        """Merge a rebuilt generation into one segment before it goes live. Bulk indexing leaves
        many segments and every listing pays per segment (each aggregation and the nested joins
        of the variants run segment by segment): at 50,000 products a listing's two requests
        cost Elasticsearch about half as much CPU on the merged index (docs/benchmarks.md). Later
        writes add small segments, which Elasticsearch merges as usual. A generation created for
        a bulk load gets the serving settings back first (refresh every second, a synced translog)."""
        name = self.index_name(generation)
        self.client.indices.put_settings(index=name, settings=SERVING_SETTINGS)
        self.client.options(request_timeout=COMPACT_TIMEOUT).indices.forcemerge(index=name, max_num_segments=1)

    # -- writes

    def index(self, documents: Sequence[SearchDocument], generations: Sequence[int]) -> None:
        """Bulk-write each document into each generation; older versions are ignored (409)."""
        if not documents or not generations:
            return
        actions = (
            {
                "_op_type": "index",
                "_index": self.index_name(gen),
                "_id": doc.sku,
                "version": doc.version,
                "version_type": "external_gte",
                "_source": document_source(doc, self.locales, self.currencies),
            }
            for doc in documents
            for gen in generations
        )
        failed = []
        try:
            for ok, item in helpers.streaming_bulk(
                self.client.options(request_timeout=BULK_TIMEOUT),
                actions,
                chunk_size=BULK_CHUNK,
                max_retries=3,
                raise_on_error=False,
                raise_on_exception=True,
                refresh=False,
                filter_path=BULK_ANSWER,
            ):
                if not ok and item["index"].get("status") != 409:
                    failed.append(item)
        except (EsConnectionError, ConnectionTimeout) as e:  # every node tried (the client retries)
            raise SearchUnavailable(f"Elasticsearch unreachable: {e}") from e
        except ApiError as e:
            if e.meta.status in TRANSIENT_STATUSES:
                raise SearchUnavailable(f"Elasticsearch answered {e.meta.status}: {e}") from e
            raise
        if failed:
            error = helpers.BulkIndexError(f"{len(failed)} search document(s) failed to index", failed)
            if all(item["index"].get("status") in TRANSIENT_STATUSES for item in failed):
                raise SearchUnavailable(str(error)) from error
            raise error

    # -- reads

    def _search(self, template_id: str, params: dict) -> answers.Answer:
        """Run a stored template on the live alias; a template missing from the cluster (a new
        cluster, or removed) is stored and the search repeated once."""
        if not self._templates_installed:
            self.ensure_templates()
        try:
            return self.client.search_template(index=self.alias, id=template_id, params=params)
        except NotFoundError as e:
            if not _missing_script(e):
                raise
        self.ensure_templates()
        return self.client.search_template(index=self.alias, id=template_id, params=params)

    def query(self, query: Query) -> Result:
        params = listing_params(query)
        try:
            listing = self._search(templates.LISTING, params)
        except NotFoundError:  # no generation switched to yet: nothing to find
            return Result(skus=(), total=0)
        names = answers.unselected_names(query, listing)
        extra = self._search(templates.LISTING_FACETS, facets_params(params, names)) if names else None
        return Result(
            skus=answers.skus(listing),
            total=answers.total(listing),
            facets=answers.facets(query, listing, extra, names),
        )

    def facet_names(self) -> frozenset[str]:
        try:
            response = self._search(templates.FACET_NAMES, {})
        except NotFoundError:
            return frozenset({BRAND})
        return frozenset({BRAND, *answers.attribute_names(response)})

    def suggest(self, text: str, locale: str, limit: int = 8) -> list[Suggestion]:
        text = text.strip()[:100]
        if not text:
            return []
        limit = min(max(limit, 1), MAX_SUGGESTIONS)
        try:
            response = self._search(templates.SUGGEST, suggest_params(text, locale, limit))
        except NotFoundError:
            return []
        return answers.suggestions(response, locale)


def _missing_script(error: NotFoundError) -> bool:
    """A 404 for a stored script (``unable to find script [id]``), not for a missing index."""
    return error.error == "resource_not_found_exception" and "script" in str(error.info)
