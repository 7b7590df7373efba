"""Listing and search pages: tiles from snippets, filter navigation from the facet counts.

The filter navigation is the one part of a page built per request (it depends on the
shopper's selection), so it is plain string building with escaping, no template engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from urllib.parse import urlencode

from markupsafe import escape

from search.documents import BRAND
from search.query import MAX_RESULT_WINDOW, SORTS, Facet, Query, Result, last_page
from vocab.i18n import AttributeLabels, money, number
from vocab.keys import FIELD, TILE_KINDS
from web.edge.pages import body_of, fill_labels

Params = Mapping[str, Sequence[str]]
PAGE_WINDOW = 2


def _href(params: Params, **changes: Sequence[str] | None) -> str:
    """A link to the same page with some parameters replaced (None removes); page resets."""
    merged = {k: list(v) for k, v in params.items() if k != "page"}
    for name, values in changes.items():
        if values is None:
            merged.pop(name, None)
        else:
            merged[name] = list(values)
    query = urlencode([(k, v) for k, vs in merged.items() for v in vs])
    return f"?{query}" if query else "?"


def tiles(raw: Sequence[bytes | None], skus: Sequence[str], labels: Mapping[str, str] | None = None) -> list[str]:
    """One ``<li>`` per SKU whose tile is in the store; missing tiles are left out. ``labels``: the
    attribute labels of the page's locale, for the options a product with variants lists."""
    out = []
    width = len(TILE_KINDS)
    for i, sku in enumerate(skus):
        tile, price, offer, avail = (body_of(r) for r in raw[i * width : (i + 1) * width])
        if not tile:
            continue
        money = (offer or price or "").partition(FIELD)[0]
        badge = (avail or "").partition(FIELD)[0]
        out.append(f'<li class="tile" data-sku="{escape(sku)}">{fill_labels(tile, labels or {})}{money}{badge}</li>')
    return out


#: Values a facet shows before the rest fold into a "more" disclosure; a facet folds only
#: when that hides at least :data:`FOLD_AT_LEAST` values (a "1 more" link helps nobody).
FACET_VISIBLE = 8
FOLD_AT_LEAST = 3


def _title(name: str, t: Mapping[str, str], labels: AttributeLabels | None) -> str:
    """A facet's heading: "Brand" in the page's language, an attribute's label (the catalog's,
    else a fallback: vocab.i18n.attribute_label). Not escaped."""
    if name == BRAND:
        return t["brand"]
    return (labels or AttributeLabels("en_US"))(name)


def _facet_group(facet: Facet, params: Params, t: Mapping[str, str], labels: AttributeLabels | None = None) -> str:
    """One facet as a disclosure: its heading in the summary, its values as links (the first
    :data:`FACET_VISIBLE`, the rest in a nested "more" disclosure). Groups start closed, so on a
    narrow screen the products come first (the selection shows as chips and as a count in the
    summary); wide screens show every group open (shop.css)."""
    selected = list(params.get(facet.name, ()))
    items = []
    for v in facet.values:
        values = [x for x in selected if x != v.value] if v.selected else selected + [v.value]
        mark = ' class="selected" aria-current="true"' if v.selected else ""
        items.append(
            f'<li><a href="{escape(_href(params, **{facet.name: values or None}))}"{mark} '
            f'data-facet="{escape(facet.name)}" data-value="{escape(v.value)}" data-count="{v.count}">'
            f'<span class="value">{escape(v.value)}</span> <span class="count">{v.count}</span></a></li>'
        )
    shown, folded = items, []
    if len(items) >= FACET_VISIBLE + FOLD_AT_LEAST:
        shown, folded = items[:FACET_VISIBLE], items[FACET_VISIBLE:]
    more = ""
    if folded:
        opened = " open" if any(v.selected for v in facet.values[FACET_VISIBLE:]) else ""
        more = (
            f'<details class="more"{opened}><summary>{escape(t["more_values"].format(n=len(folded)))}</summary>'
            f"<ul>{''.join(folded)}</ul></details>"
        )
    picked = sum(v.selected for v in facet.values)
    badge = f' <span class="picked">({picked})</span>' if picked else ""
    return (
        f'<details class="facet" data-facet-name="{escape(facet.name)}">'
        f"<summary><h3>{escape(_title(facet.name, t, labels))}{badge}</h3></summary>"
        f"<ul>{''.join(shown)}</ul>{more}</details>"
    )


def facet_nav(result: Result, params: Params, t: Mapping[str, str], labels: AttributeLabels | None = None) -> str:
    """The facets' groups; each value a link that adds it to (or takes it from) the selection."""
    return "".join(_facet_group(facet, params, t, labels) for facet in result.facets)


def _price_label(query: Query, t: Mapping[str, str]) -> str:
    low, high = (
        "" if amount is None else money(amount, query.currency, query.locale)
        for amount in (query.price_min, query.price_max)
    )
    if low and high:
        return t["price_between"].format(low=low, high=high)
    return t["price_from"].format(low=low) if low else t["price_up_to"].format(high=high)


def chips(query: Query, params: Params, t: Mapping[str, str], labels: AttributeLabels | None = None) -> str:
    """The selection above the results: one link per selected value (price range and in-stock
    included) that removes just that, and one that removes them all. Empty without a selection."""
    found = []
    for name, values in query.filters.items():
        for value in values:
            rest = [v for v in values if v != value]
            found.append((_href(params, **{name: rest or None}), f"{_title(name, t, labels)}: {value}", name, value))
    if query.price_min is not None or query.price_max is not None:
        found.append(
            (
                _href(params, price=None),
                f"{t['price']}: {_price_label(query, t)}",
                "price",
                params.get("price", [""])[0],
            )
        )
    if query.in_stock:
        found.append((_href(params, in_stock=None), t["in_stock_only"], "in_stock", "1"))
    if not found:
        return ""
    items = "".join(
        f'<li><a class="chip" href="{escape(href)}" data-chip="{escape(name)}" data-chip-value="{escape(value)}">'
        f'<span class="visually-hidden">{escape(t["remove_filter"])}: </span>{escape(label)}'
        f'<span class="chip-x" aria-hidden="true">×</span></a></li>'
        for href, label, name, value in found
    )
    everything = _href(params, **_unfiltered(query))
    return (
        f'<nav class="chips" aria-label="{escape(t["selected_filters"])}"><ul>{items}<li>'
        f'<a class="clear-all" href="{escape(everything)}">{escape(t["reset"])}</a></li></ul></nav>'
    )


def _unfiltered(query: Query) -> dict[str, None]:
    """The parameter changes that remove every filter (the search text, sort and page size stay)."""
    return {**dict.fromkeys(query.filters), "price": None, "in_stock": None}


def sort_nav(query: Query, params: Params, t: Mapping[str, str]) -> str:
    current = ' aria-current="true"'
    links = "".join(
        f'<li><a href="{escape(_href(params, sort=[s]))}" data-sort="{s}"'
        f"{current if s == query.sort else ''}>{escape(t[s])}</a></li>"
        for s in SORTS
    )
    return (
        f'<nav class="sort" aria-labelledby="sort-title"><span id="sort-title" class="sort-title">'
        f"{escape(t['sort'])}:</span><ul>{links}</ul></nav>"
    )


def stock_filter(query: Query, params: Params, t: Mapping[str, str]) -> str:
    """The in-stock toggle: a link that switches it (shown as a checkbox)."""
    href = _href(params, in_stock=None if query.in_stock else ["1"])
    mark = ' class="in-stock selected" aria-current="true"' if query.in_stock else ' class="in-stock"'
    return (
        f'<p class="stock-filter"><a href="{escape(href)}"{mark} data-in-stock="{int(query.in_stock)}">'
        f"{escape(t['in_stock_only'])}</a></p>"
    )


def price_filter(query: Query, params: Params, t: Mapping[str, str]) -> str:
    """The price range form (``price=MIN-MAX``); the other parameters ride along hidden."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, vs in params.items()
        if k not in ("price", "page")
        for v in vs
    )
    low = "" if query.price_min is None else str(query.price_min)
    high = "" if query.price_max is None else str(query.price_max)
    value = f"{low}-{high}" if low or high else ""
    return (
        f'<details class="facet facet-price" data-facet-name="price"><summary><h3>{escape(t["price"])}'
        f'</h3></summary><form class="price-range" method="get">{hidden}'
        f'<label for="price-range">{escape(t["price_range"])}</label>'
        f'<span class="hint" id="price-range-hint">{escape(t["price_range_hint"])}</span>'
        f'<span class="price-row"><input id="price-range" name="price" value="{escape(value)}" '
        f'pattern="[0-9.]*-[0-9.]*" inputmode="decimal" size="10" autocomplete="off" '
        f'aria-describedby="price-range-hint"><button type="submit">{escape(t["apply"])}</button></span>'
        f"</form></details>"
    )


def pager(query: Query, total: int, params: Params, t: Mapping[str, str]) -> str:
    pages = min(max(1, -(-total // query.per_page)), last_page(query.per_page))
    if pages == 1:
        return ""

    def link(page: int, label: str, rel: str = "") -> str:
        merged = {**params, "page": [str(page)]}
        current = ' aria-current="page"' if page == query.page and not rel else ""
        rel_attr = f' rel="{rel}"' if rel else ""
        return f'<a href="?{escape(urlencode(merged, doseq=True))}"{rel_attr}{current}>{escape(label)}</a>'

    parts = [link(query.page - 1, t["previous"], "prev")] if query.page > 1 else []
    first, last = max(1, query.page - PAGE_WINDOW), min(pages, query.page + PAGE_WINDOW)
    parts += [link(p, str(p)) for p in range(first, last + 1)]
    if query.page < pages:
        parts.append(link(query.page + 1, t["next"], "next"))
    return f'<nav class="pager">{"".join(parts)}</nav>'


def item_list(query: Query, result: Result) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "ItemList",
        "numberOfItems": result.total,
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": query.offset + i + 1,
                "url": f"/p/{sku}",
                "item": {"@type": "Product", "sku": sku},
            }
            for i, sku in enumerate(result.skus)
        ],
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="application/ld+json">{text}</script>'


def listing_body(
    header: str,
    query: Query,
    result: Result,
    tile_html: list[str],
    params: Params,
    t: Mapping[str, str],
    labels: AttributeLabels | None = None,
) -> str:
    """The page under the frame: the header, the filters in a sidebar (``aside``), and the
    results with their count, sort, the selection as removable chips, tiles and pager.
    ``labels``: the attribute labels of the page's locale (facet headings, chips)."""
    labels = labels or AttributeLabels(query.locale)
    if query.past_window:
        grid = f'<p class="refine">{escape(t["refine"].format(limit=number(MAX_RESULT_WINDOW, query.locale)))}</p>'
    elif tile_html:
        grid = f'<ul class="tiles">{"".join(tile_html)}</ul>'
    else:
        grid = f'<p class="empty">{escape(t["no_results"])}</p>'  # the chips above offer to remove filters
    words = t["results_one"] if result.total == 1 else t["results"]
    count = escape(words.format(total=number(result.total, query.locale)))
    return (
        f'{header}<div class="listing">'
        f'<aside class="filters" aria-label="{escape(t["filters"])}">'
        f'<h2 class="filters-title">{escape(t["filters"])}</h2>'
        f'{stock_filter(query, params, t)}<div class="facets">{price_filter(query, params, t)}'
        f"{facet_nav(result, params, t, labels)}</div></aside>"
        f'<section class="results" aria-labelledby="result-count"><div class="results-bar">'
        f'<h2 class="result-count" id="result-count" data-total="{result.total}">{count}</h2>'
        f"{sort_nav(query, params, t)}</div>{chips(query, params, t, labels)}{grid}"
        f"{pager(query, result.total, params, t)}</section></div>{item_list(query, result)}"
    )
