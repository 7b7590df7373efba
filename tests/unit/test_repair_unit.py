"""Read-repair and dead letters without services: what a page asks to repair, how the drain
reads it, and that only a task's final failure becomes a dead letter."""

from celery import Celery

from projector import celery_app as names
from projector.deadletters import DeadLetterTask
from projector.read_repair import Repairs
from snipshop.config import Settings
from vocab.keys import FIELD, KeyScheme, join_value
from web.edge import repair_requests

V = join_value(3, "x").encode()
TOMB = join_value(3, "").encode()


def test_repair_keys_share_one_hash_tag():
    keys = KeyScheme("ss")
    assert keys.repair_pending == "ss:{repair}:pending"
    assert keys.repair_seen("product", "24-MB01") == "ss:{repair}:seen:product:24-MB01"
    assert keys.dead_letters == "ss:dead"


def test_a_whole_product_page_asks_for_nothing():
    # frame, detail, crumb, price, offer (none live: missing is normal), avail, ld
    assert repair_requests.product_page_misses("A", [V, V, V, V, None, V, V]) == []


def test_a_missing_part_or_frame_asks_for_the_product_or_the_navigation():
    assert repair_requests.product_page_misses("A", [V, V, V, None, None, V, V]) == [("product", "A")]
    assert repair_requests.product_page_misses("A", [None, V, V, V, V, V, V]) == [("navigation", "_")]
    assert repair_requests.product_page_misses("A", [None, None, V, V, V, V, V]) == [
        ("navigation", "_"),
        ("product", "A"),
    ]


def test_a_tombstone_is_a_real_404_and_asks_for_nothing():
    assert repair_requests.product_page_misses("A", [V, TOMB, None, TOMB, TOMB, TOMB, None]) == []


def test_nothing_stored_means_unknown_product():
    assert repair_requests.unknown_product([V, None, None, None, None, None, None])
    assert not repair_requests.unknown_product([V, None, V, None, None, None, None])


def test_listing_tiles_ask_for_products_with_a_missing_tile_price_or_badge():
    raw = [
        V,
        V,
        None,
        V,  # complete (no live offer)
        None,
        V,
        None,
        V,  # tile missing
        V,
        None,
        None,
        V,  # price missing
        TOMB,
        TOMB,
        TOMB,
        TOMB,
    ]  # gone: the search index lags, nothing to repair
    assert repair_requests.tile_misses(raw, ["A", "B", "C", "D"]) == [("product", "B"), ("product", "C")]


def test_shared_misses_and_a_lost_pointer():
    assert repair_requests.shared_misses(V, V) == []
    assert repair_requests.shared_misses(None, None) == [("navigation", "_"), ("home", "_")]
    assert repair_requests.for_missing("live generation") == [("navigation", "_"), ("labels", "_"), ("home", "_")]
    assert repair_requests.for_missing("frame") == [("navigation", "_")]


def test_degraded_parts_name_what_is_unavailable():
    crumb, price, avail = repair_requests.degraded_parts("de_DE", None, None, None, None)
    assert crumb == "" and "Preis derzeit nicht verfügbar" in price and price.endswith(FIELD)
    assert "Verfügbarkeit derzeit unbekannt" in avail
    offer = f'<p>offer</p>{FIELD}"price":"1.00"'
    _, price, avail = repair_requests.degraded_parts("en_US", "<nav/>", None, offer, "<b>in</b>")
    assert price is None and avail == "<b>in</b>"  # a live offer stands in for the price


def test_the_drain_parses_entries_and_ignores_junk():
    todo = Repairs.parse([b"product:B2", b"navigation:_", b"product:A1", b"home:_", b"product:bad sku", b"junk"])
    assert todo.skus == ["A1", "B2"] and todo.navigation and todo.home
    assert todo.ignored == ["product:bad sku", "junk"]
    assert sorted(todo.entries()) == ["home:_", "navigation:_", "product:A1", "product:B2"]


class FakeLetters:
    def __init__(self):
        self.items = []

    def add(self, entry):
        self.items.append(entry)


def _eager_app():
    app = Celery("unit", set_as_current=False)
    app.conf.task_always_eager = True
    letters = FakeLetters()
    app.conf.dead_letters = lambda: letters
    return app


def test_only_the_final_failure_after_retries_is_a_dead_letter():
    app, calls = _eager_app(), []

    @app.task(
        base=DeadLetterTask,
        name="unit.flaky",
        autoretry_for=(ConnectionError,),
        max_retries=2,
        retry_backoff=False,
        default_retry_delay=0,
    )
    def flaky(skus, sent_at=None):
        calls.append(skus)
        raise ConnectionError("database away")

    assert flaky.apply(args=[["A"]], kwargs={"sent_at": 1.0}).state == "FAILURE"
    assert len(calls) == 3
    [entry] = app.conf.dead_letters().items
    assert entry["task"] == "unit.flaky" and entry["args"] == [["A"]] and entry["kwargs"] == {"sent_at": 1.0}
    assert entry["retries"] == 2 and entry["error"] == "ConnectionError: database away" and entry["task_id"]


def test_a_non_transient_error_is_not_retried():
    app, calls = _eager_app(), []

    @app.task(base=DeadLetterTask, name="unit.bug", autoretry_for=(ConnectionError,), max_retries=5)
    def bug(skus):
        calls.append(skus)
        raise TypeError("not a list")

    bug.apply(args=[123])
    assert calls == [123]
    [entry] = app.conf.dead_letters().items
    assert entry["retries"] == 0 and entry["error"].startswith("TypeError")


def test_projection_tasks_dead_letter_and_retry_only_transient_errors():
    from entrypoints.bootstrap import Parts
    from projector.tasks import MAX_RETRIES, TRANSIENT, register

    parts = Parts(Settings())
    app = parts.celery
    register(app, parts)  # builds nothing else: the tasks take their parts on first use
    assert not {"pool", "snippet_redis", "search", "projector", "dead_letters"} & set(parts.__dict__)
    for name in (
        names.PROJECT_PRODUCTS,
        names.PROJECT_PRICES,
        names.PROJECT_STOCK,
        names.PROJECT_CATEGORIES,
        names.REFRESH,
    ):
        task = app.tasks[name]
        assert isinstance(task, DeadLetterTask), name
        assert tuple(task.autoretry_for) == TRANSIENT and task.max_retries == MAX_RETRIES
    assert not isinstance(app.tasks[names.REPAIR], DeadLetterTask)  # periodic: the next run retries
    assert app.conf.beat_schedule["read-repair"]["task"] == names.REPAIR
    assert app.conf.beat_schedule["read-repair"]["schedule"] == 1.0
