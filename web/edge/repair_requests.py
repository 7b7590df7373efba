"""Read-repair, the edge's side: when a page misses a snippet, ask for its re-projection.

The edge never touches PostgreSQL or the broker. It notes what it missed in Redis, in one small
script call made only on a miss: a rate-limit key per thing (``SET NX EX``) and, when that key
was new, an entry in the pending set. The ``projector.repair`` task drains the set every second
(projector/read_repair.py). Entries are ``kind:id``: ``product:SKU``, ``navigation:_``,
``labels:_``, ``home:_``.

What the pages do meanwhile is documented in docs/resilience.md: a product page without a
secondary part (breadcrumb, price, badge, JSON-LD, attribute labels; for a product with variants,
its picker or a variant's price or badge) is served degraded and not cached; without its text or
frame it is a 503 with ``Retry-After``; listings leave missing tiles out.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import redis

from vocab.keys import FIELD, TILE_KINDS, VARIANT_KINDS, KeyScheme, split_value
from vocab.repair_entries import HOME_THING, LABELS_THING, NAVIGATION_THING, Thing, entry, product

log = logging.getLogger(__name__)

#: One request per thing per window; the drain runs every second, so a repaired snippet is back
#: long before the window ends, and a thing that cannot be repaired costs one request per window.
WINDOW_SECONDS = 10
#: Beyond this many pending entries new requests are dropped (a flood of made-up SKUs must not
#: grow the set without bound); pages ask again after the window.
MAX_PENDING = 10_000

# KEYS[1] pending set, KEYS[2..] rate-limit keys; ARGV[1] window, ARGV[2] max pending,
# ARGV[3..] the entries, in the order of KEYS[2..]. Returns how many entries were added.
REQUEST = """
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
local added = 0
for i = 2, #KEYS do
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ARGV[1]) then
    added = added + redis.call('SADD', KEYS[1], ARGV[i + 1])
  end
end
return added
"""

# Shown in place of a missing part; the page stays useful and is not cached.
UNAVAILABLE = {
    "en": {"price": "Price currently unavailable", "avail": "Availability currently unknown"},
    "de": {"price": "Preis derzeit nicht verfügbar", "avail": "Verfügbarkeit derzeit unbekannt"},
}


class RepairRequests:
    """Records what pages missed; at most one script call per page, and only on a miss."""

    def __init__(
        self, client: redis.Redis, keys: KeyScheme, window: int = WINDOW_SECONDS, max_pending: int = MAX_PENDING
    ) -> None:
        self.client = client
        self.keys = keys
        self.window = window
        self.max_pending = max_pending
        self._script = client.register_script(REQUEST)

    def request(self, things: Iterable[Thing]) -> int:
        """Ask for a re-projection of ``things``; return how many were newly queued (-1: full).

        Never raises: the page being answered matters more than the request, which the next
        visitor repeats anyway.
        """
        unique = list(dict.fromkeys(things))
        if not unique:
            return 0
        try:
            return int(
                self._script(
                    keys=[self.keys.repair_pending] + [self.keys.repair_seen(*t) for t in unique],
                    args=[self.window, self.max_pending] + [entry(t) for t in unique],
                )
            )
        except redis.RedisError as exc:
            log.warning("repair request failed: %s", exc, extra={"things": [entry(t) for t in unique]})
            return 0


def _missing(raw: bytes | None) -> bool:
    return raw is None


def _gone(raw: bytes | None) -> bool:
    value = split_value(raw)
    return value is not None and value[1] == ""


def product_page_misses(sku: str, raw: Sequence[bytes | None]) -> list[Thing]:
    """What to repair after a product page's MGET (order of ``PRODUCT_PAGE_KINDS``).

    A missing offer is normal (it dies with the offer); a tombstoned detail is a real 404.
    """
    frame, detail, crumb, price, _offer, avail, ld = raw[:7]
    things = [NAVIGATION_THING] if _missing(frame) else []
    if not _gone(detail) and any(_missing(r) for r in (detail, crumb, price, avail, ld)):
        things.append(product(sku))
    if len(raw) > 7 and _missing(raw[7]):
        things.append(LABELS_THING)
    return things


def variant_misses(sku: str, raw: Sequence[bytes | None]) -> list[Thing]:
    """What to repair after the second fetch of a product with variants: its VARIANTS snippet, then
    ``VARIANT_KINDS`` per variant. A missing offer is normal; any other miss re-projects the product."""
    width = len(VARIANT_KINDS)
    parts = raw[1:]
    if _missing(raw[0]) or any(_missing(parts[i]) or _missing(parts[i + 2]) for i in range(0, len(parts), width)):
        return [product(sku)]
    return []


def unknown_product(raw: Sequence[bytes | None]) -> bool:
    """Nothing at all is stored for the product: most likely it does not exist (a 404)."""
    return all(_missing(r) for r in raw[1:7])


def tile_misses(raw: Sequence[bytes | None], skus: Sequence[str]) -> list[Thing]:
    """Products of a listing whose tile, price or badge is missing (``TILE_KINDS`` per SKU)."""
    width = len(TILE_KINDS)
    things = []
    for i, sku in enumerate(skus):
        tile, price, _offer, avail = raw[i * width : (i + 1) * width]
        if not _gone(tile) and (_missing(tile) or _missing(price) or _missing(avail)):
            things.append(product(sku))
    return things


def shared_misses(frame: bytes | None, home: bytes | None = b"", labels: bytes | None = b"") -> list[Thing]:
    """The shop-wide snippets: the frame (navigation), the home heading with featured SKUs and the
    attribute labels (only the pages that fetch them pass them)."""
    return (
        ([NAVIGATION_THING] if _missing(frame) else [])
        + ([HOME_THING] if _missing(home) else [])
        + ([LABELS_THING] if _missing(labels) else [])
    )


def for_missing(what: str) -> list[Thing]:
    """What to repair when a page cannot be built at all (``pages.MissingSnippet``'s message)."""
    if what == "live generation":  # Redis lost everything: the repair recreates generation 1
        return [NAVIGATION_THING, LABELS_THING, HOME_THING]
    return [NAVIGATION_THING]


def degraded_parts(
    locale: str, crumb: str | None, price: str | None, offer: str | None, avail: str | None
) -> tuple[str, str | None, str]:
    """Stand-ins for a product page's missing secondary parts: ``(crumb, price, avail)``.

    A missing price shows "price currently unavailable" (no JSON-LD offer), a missing badge
    "availability currently unknown"; a missing breadcrumb is left out.
    """
    words = UNAVAILABLE.get(locale.split("_")[0], UNAVAILABLE["en"])
    if price is None and not offer:
        price = f'<p class="price unavailable">{words["price"]}</p>{FIELD}'
    if avail is None:
        avail = f'<p class="availability unavailable">{words["avail"]}</p>{FIELD}'
    return crumb or "", price, avail
