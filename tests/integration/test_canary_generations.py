"""Canary generations on the projector's side: `rebuild --canary`, writes to both, promote, abort."""

import json
from dataclasses import replace

import pytest

from catalog import commands
from catalog.models import CategoryIn, ProductIn, VariantIn
from projector import canary
from projector.generations import delete_old_generations, switch_to
from projector.rebuild import rebuild
from projector.service import Projector
from search.factory import make_search
from search.query import Query
from tests.redis_support import store_client
from vocab.keys import CanaryRecord, KeyScheme

pytestmark = pytest.mark.integration


def make(settings, pool):
    settings = replace(settings, pointer_cache_seconds=0)
    client = store_client(settings)
    return Projector(settings, pool, client, make_search(settings, client))


def seed(pool, name):
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(conn, [("G1", ProductIn(name={"en_US": name}, categories=["gear"]))])


def detail(p: Projector, gen: int) -> str:
    raw = p.writer.client.get(f"{p.keys.prefix}:{gen}:detail:en_US:{{G1}}")
    assert raw is not None
    return raw.decode()


def test_a_canary_is_built_beside_the_live_generation_and_tasks_write_to_both(settings, pool):
    p = make(settings, pool)
    seed(pool, "First name")
    live = rebuild(p, progress=False).generation
    summary = rebuild(p, progress=False, canary=20)
    gen = summary.generation
    keys = KeyScheme(settings.key_prefix)
    assert "canary for 20 %" in str(summary)
    assert int(p.writer.client.get(keys.live)) == live  # N stays live
    record = CanaryRecord.decode(p.writer.client.get(keys.canary))
    assert record is not None and (record.generation, record.base, record.percent) == (gen, live, 20)
    assert json.loads(p.writer.client.get(keys.canary))["percent"] == 20
    assert p.writer.client.get(keys.building) is None
    assert p.writer.target_generations() == [live, gen]
    seed(pool, "Second name")
    p.products(["G1"])
    assert "Second name" in detail(p, live) and "Second name" in detail(p, gen)
    assert delete_old_generations(p) == []  # the canary's generation is no orphan
    p.search.refresh()
    q = Query(text="second", locale="en_US", currency="EUR")
    assert p.search.canary_view().query(q).skus == ("G1",)
    assert p.search.canary_view().live_generation() == gen
    assert p.search.live_generation() == live


def test_a_full_rebuild_or_a_switch_is_refused_while_a_canary_runs(settings, pool):
    p = make(settings, pool)
    seed(pool, "Name")
    live = rebuild(p, progress=False).generation
    rebuild(p, progress=False, canary=10)
    with pytest.raises(canary.CanaryRunning):
        rebuild(p, progress=False)
    with pytest.raises(canary.CanaryRunning):
        rebuild(p, progress=False, canary=30)
    with pytest.raises(canary.CanaryRunning):
        switch_to(p, live)
    canary.abort(p)
    with pytest.raises(ValueError):
        rebuild(p, progress=False, canary=100)


def test_promote_switches_everyone_and_keeps_the_old_generation_for_a_rollback(settings, pool):
    p = make(settings, pool)
    seed(pool, "Name")
    live = rebuild(p, progress=False).generation
    gen = rebuild(p, progress=False, canary=50).generation
    record = canary.promote(p)
    keys = p.keys
    assert record.generation == gen
    assert int(p.writer.client.get(keys.live)) == gen
    assert p.writer.client.get(keys.canary) is None
    assert p.search.live_generation() == gen
    assert p.search.canary_view().live_generation() is None
    assert p.writer.target_generations() == [gen]
    assert switch_to(p, live) == gen  # a rollback works as after a plain rebuild
    with pytest.raises(canary.NoCanary):
        canary.promote(p)


def test_abort_sends_everyone_back_and_deletes_the_canary_generation(settings, pool):
    p = make(settings, pool)
    seed(pool, "Name")
    live = rebuild(p, progress=False).generation
    gen = rebuild(p, progress=False, canary=50).generation
    canary.abort(p)
    keys = p.keys
    assert int(p.writer.client.get(keys.live)) == live
    assert p.writer.client.get(keys.canary) is None
    assert not list(p.writer.client.scan_iter(keys.generation_pattern(gen)))
    assert str(gen).encode() not in p.writer.client.smembers(keys.generations)
    assert p.search.canary_view().live_generation() is None
    assert p.writer.target_generations() == [live]
    with pytest.raises(canary.NoCanary):
        canary.abort(p)


def test_tasks_render_the_canary_with_its_own_templates_and_leave_out_what_they_fail(settings, pool, tmp_path):
    (tmp_path / "avail.html").write_text('<p class="availability" data-template="trial">{{ t[state] }}</p>')
    p = make(settings, pool)
    seed(pool, "Name")
    live = rebuild(p, progress=False).generation
    trial = make(replace(settings, templates_dir=str(tmp_path)), pool)
    gen = rebuild(trial, progress=False, canary=20).generation
    record = canary.current_canary(p)
    assert record is not None and record.templates == str(tmp_path)
    avail = f"{p.keys.prefix}:{{}}:avail:en_US:{{{{G1}}}}"
    client = p.writer.client
    assert b"trial" in client.get(avail.format(gen)) and b"trial" not in client.get(avail.format(live))
    client.delete(avail.format(gen), avail.format(live))
    p.products(["G1"])  # a task: each generation with its own templates
    assert b"trial" in client.get(avail.format(gen)) and b"trial" not in client.get(avail.format(live))
    (tmp_path / "avail.html").write_text("{{ no_such_value }}")  # a broken template on trial
    broken = make(settings, pool)
    client.delete(avail.format(gen))
    broken.products(["G1"])
    assert client.get(avail.format(gen)) is None  # left out, not written
    assert client.get(avail.format(live)) is not None  # the live generation is not touched by it
    assert client.get(f"{p.keys.prefix}:{gen}:detail:en_US:{{G1}}") is not None


def test_a_navigation_change_during_a_canary_keeps_each_side_its_templates(settings, pool, tmp_path):
    (tmp_path / "category.html").write_text('<h1 class="category-name" data-template="trial">{{ name }}</h1>')
    p = make(settings, pool)
    seed(pool, "Name")
    live = rebuild(p, progress=False).generation
    gen = rebuild(make(replace(settings, templates_dir=str(tmp_path)), pool), progress=False, canary=20).generation
    header = f"{p.keys.prefix}:{{}}:category:en_US:{{{{gear}}}}"
    client = p.writer.client
    client.delete(header.format(gen), header.format(live))
    p.navigation()  # as a category change's task does
    assert b"trial" in client.get(header.format(gen)) and b"trial" not in client.get(header.format(live))


def test_a_stock_movement_of_a_variant_during_a_canary_keeps_each_side_its_badge_template(settings, pool, tmp_path):
    (tmp_path / "avail.html").write_text('<p class="availability" data-template="trial">{{ t[state] }}</p>')
    p = make(settings, pool)
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(conn, [("J1", ProductIn(name={"en_US": "Jacket"}, categories=["gear"]))])
        commands.put_variants(conn, [("J1", "J1-S", VariantIn(options={"size": "S"}))])
        commands.set_stock(conn, [("J1-S", 0)])
    live = rebuild(p, progress=False).generation
    gen = rebuild(make(replace(settings, templates_dir=str(tmp_path)), pool), progress=False, canary=20).generation
    with pool.connection() as conn:
        commands.set_stock(conn, [("J1-S", 50)])  # sold out to in stock: the badges change
    p.stock(["J1-S"])  # as the stock task does
    badge = f"{p.keys.prefix}:{{}}:avail:en_US:{{{{J1}}}}:J1-S"
    client = p.writer.client
    canary_badge, live_badge = client.get(badge.format(gen)), client.get(badge.format(live))
    assert b"trial" in canary_badge and b"InStock" in canary_badge
    assert b"trial" not in live_badge and b"InStock" in live_badge


def test_while_a_canary_is_built_tasks_render_its_generation_with_its_templates(settings, pool, tmp_path):
    """A task running while `rebuild --canary` fills the new generation writes it as the rebuild
    does (same source version: whichever comes last stays), so it must render the same way."""
    (tmp_path / "avail.html").write_text('<p class="availability" data-template="trial">{{ t[state] }}</p>')
    p = make(settings, pool)
    seed(pool, "Name")
    live = rebuild(p, progress=False).generation
    client, keys = p.writer.client, p.keys
    client.set(keys.building, live + 1)  # what the canary's rebuild sets before it fills it
    client.set(keys.building_templates, str(tmp_path))
    p.products(["G1"])
    avail = f"{keys.prefix}:{{}}:avail:en_US:{{{{G1}}}}"
    assert b"trial" in client.get(avail.format(live + 1)) and b"trial" not in client.get(avail.format(live))
    client.delete(keys.building, keys.building_templates)
