"""Generations: rollback with `projector switch`, and collection after a grace period."""

import subprocess
import sys
import time
from dataclasses import replace

import pytest

from catalog import commands
from catalog.models import CategoryIn, ProductIn
from projector.generations import UnknownGeneration, delete_old_generations, generations, switch_to
from projector.rebuild import rebuild
from projector.service import Projector
from search.factory import make_search
from tests.processes import REPO
from tests.redis_support import store_client
from vocab.keys import KeyScheme
from web.edge.app import create_app

pytestmark = pytest.mark.integration


def make(settings, pool, grace=3600):
    settings = replace(settings, generation_grace_seconds=grace, pointer_cache_seconds=0)
    client = store_client(settings)
    return Projector(settings, pool, client, make_search(settings, client))


def seed(pool, name):
    with pool.connection() as conn:
        commands.put_categories(conn, [("gear", CategoryIn(name={"en_US": "Gear"}))])
        commands.put_products(conn, [("G1", ProductIn(name={"en_US": name}, categories=["gear"]))])


def test_rollback_to_the_replaced_generation(settings, pool):
    p = make(settings, pool)
    seed(pool, "First name")
    interval = sys.getswitchinterval()
    one = rebuild(p, progress=False).generation
    assert sys.getswitchinterval() == interval  # the pipeline's longer interval ends with it
    seed(pool, "Second name")
    two = rebuild(p, progress=False).generation
    edge = create_app(replace(settings, pointer_cache_seconds=0)).test_client()
    assert "Second name" in edge.get("/p/G1").text
    assert [(g.number, g.live, g.retired_at is not None) for g in generations(p)] == [
        (one, False, True),
        (two, True, False),
    ]
    assert switch_to(p, one) == two
    assert "First name" in edge.get("/p/G1").text  # the old generation, as it was
    assert p.search.live_generation() == one
    with pytest.raises(UnknownGeneration):
        switch_to(p, 99)


def test_only_the_newest_replaced_generation_is_kept_and_only_for_the_grace_period(settings, pool):
    p = make(settings, pool, grace=60)
    seed(pool, "Name")
    gens = [rebuild(p, progress=False).generation for _ in range(3)]
    client, keys = p.writer.client, KeyScheme(settings.key_prefix)
    assert [g.number for g in generations(p)] == gens[1:]  # the oldest went at once
    assert delete_old_generations(p, now=time.time() + 30) == []  # within the grace period
    assert delete_old_generations(p, now=time.time() + 61) == [gens[1]]
    assert not list(client.scan_iter(match=keys.generation_pattern(gens[1])))
    assert [g.number for g in generations(p)] == [gens[2]]


def test_switch_command(settings, pool, service_env):
    p = make(settings, pool)
    seed(pool, "Name")
    one = rebuild(p, progress=False).generation
    rebuild(p, progress=False)
    run = subprocess.run(
        [sys.executable, "-m", "entrypoints.projector_cli", "switch", str(one)],
        env=service_env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert f"generation {one} is live" in run.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "entrypoints.projector_cli", "switch", "77"],
        env=service_env,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "does not exist" in bad.stderr
