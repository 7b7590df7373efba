"""Listing and search pages: tiles from snippets, filter navigation from the facet counts.

The filter navigation is the one part of a page built per request (it depends on the
shopper's selection), so it is plain string building with escaping, no template engine.
"""
from __future__ import annotations

import json
from typing import Mapping, Sequence
from urllib.parse import urlencode

from markupsafe import escape

from projector.i18n import number
from projector.keys import FIELD, TILE_KINDS
from search.query import MAX_RESULT_WINDOW, SORTS, Query, Result, last_page
from web.edge.pages import body_of

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


def tiles(raw: Sequence[bytes | None], skus: Sequence[str]) -> list[str]:
    """One ``<li>`` per SKU whose tile is in the store; missing tiles are left out."""
    out = []
    width = len(TILE_KINDS)
    for i, sku in enumerate(skus):
        tile, price, offer, avail = (body_of(r) for r in raw[i * width:(i + 1) * width])
        if not tile:
            continue
        money = (offer or price or "").partition(FIELD)[0]
        badge = (avail or "").partition(FIELD)[0]
        out.append(f'<li class="tile" data-sku="{escape(sku)}">{tile}{money}{badge}</li>')
    return out


def facet_nav(result: Result, params: Params, t: Mapping[str, str]) -> str:
    sections = []
    for facet in result.facets:
        selected = list(params.get(facet.name, ()))
        items = []
        for v in facet.values:
            values = [x for x in selected if x != v.value] if v.selected else selected + [v.value]
            mark = ' class="selected" aria-current="true"' if v.selected else ""
            items.append(
                f'<li><a href="{escape(_href(params, **{facet.name: values or None}))}"{mark} '
                f'data-facet="{escape(facet.name)}" data-value="{escape(v.value)}" data-count="{v.count}">'
                f'{escape(v.value)} <span class="count">{v.count}</span></a></li>')
        title = t.get(facet.name, facet.name.replace("_", " ").capitalize())
        sections.append(f'<section class="facet" data-facet-name="{escape(facet.name)}"><h2>{escape(title)}</h2>'
                        f'<ul>{"".join(items)}</ul></section>')
    return "".join(sections)


def controls(query: Query, params: Params, t: Mapping[str, str]) -> str:
    """Sort links, the in-stock toggle and the price range form."""
    current = ' aria-current="true"'
    sorts = "".join(
        f'<a href="{escape(_href(params, sort=[s]))}" data-sort="{s}"'
        f'{current if s == query.sort else ""}>{escape(t[s])}</a>' for s in SORTS)
    stock = _href(params, in_stock=None if query.in_stock else ["1"])
    hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                     for k, vs in params.items() if k not in ("price", "page") for v in vs)
    low = "" if query.price_min is None else str(query.price_min)
    high = "" if query.price_max is None else str(query.price_max)
    return (f'<div class="controls"><nav class="sort" aria-label="{escape(t["sort"])}">{sorts}</nav>'
            f'<a class="in-stock" href="{escape(stock)}" data-in-stock="{int(query.in_stock)}">'
            f'{"☑" if query.in_stock else "☐"} {escape(t["in_stock_only"])}</a>'
            f'<form class="price-range" method="get">{hidden}<label>{escape(t["price"])} '
            f'<input name="price" value="{escape(low)}-{escape(high)}" pattern="[0-9.]*-[0-9.]*" size="12">'
            f'</label><button type="submit">{escape(t["apply"])}</button></form></div>')


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
    data = {"@context": "https://schema.org", "@type": "ItemList", "numberOfItems": result.total,
            "itemListElement": [{"@type": "ListItem", "position": query.offset + i + 1, "url": f"/p/{sku}",
                                 "item": {"@type": "Product", "sku": sku}} for i, sku in enumerate(result.skus)]}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="application/ld+json">{text}</script>'


def listing_body(header: str, query: Query, result: Result, tile_html: list[str], params: Params,
                 t: Mapping[str, str]) -> str:
    if query.past_window:
        grid = f'<p class="refine">{escape(t["refine"].format(limit=number(MAX_RESULT_WINDOW, query.locale)))}</p>'
    elif tile_html:
        grid = f'<ul class="tiles">{"".join(tile_html)}</ul>'
    else:
        grid = (f'<p class="empty">{escape(t["no_results"])}</p>'
                f'<p><a href="?{escape(urlencode({"q": query.text}) if query.text else "")}">{escape(t["reset"])}</a></p>')
    count = escape(t["results"].format(total=result.total))
    return (f'{header}<div class="listing"><aside class="filters" aria-label="{escape(t["filters"])}">'
            f'{facet_nav(result, params, t)}</aside><section class="results"><p class="result-count" '
            f'data-total="{result.total}">{count}</p>{controls(query, params, t)}{grid}'
            f'{pager(query, result.total, params, t)}</section></div>{item_list(query, result)}')
