"""Redis replicas and Sentinel (docs/resilience.md): the edge reads a replica on its host, the
projector writes the primary; Sentinel promotes a replica when the primary is killed and every
client follows.

Each test runs its own replicated Redis (tools/redisgroup.py) for the snippet store; the broker
stays on the session's Redis (a database of its own, tests/faults/conftest.py).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from dataclasses import replace
from decimal import Decimal

import pytest
import redis
import requests

from catalog import commands
from projector.rebuild import rebuild
from snipshop import redis_clients
from tests.faults.conftest import Rig, price_versions, seed
from tests.processes import poll, start_http, wait_until
from tools.redisgroup import RedisGroup
from vocab.keys import Context, KeyScheme, Kind, split_value

pytestmark = pytest.mark.faults
API = "/admin/api/v1"
EN_EUR = Context("en_US", "EUR")
CHANGES = 15  # price changes timed through the replica


def on_group(rig: Rig, group: RedisGroup, *, sentinel: bool) -> Rig:
    """The rig with its snippet store on ``group``: written on the primary (found through the
    sentinels if ``sentinel``), read by the edge on the first replica, each change waited for by
    one replica. The near cache keeps entries long, so only an invalidation can refresh one."""
    primary, replica = group.servers[0], group.servers[1]
    env = {
        "REDIS_URL": f"{primary.url}/0",
        "REDIS_READ_URL": f"{replica.url}/0",
        "REDIS_WAIT_REPLICAS": "1",
        "EDGE_CACHE_SECONDS": "600",
    }
    if sentinel:
        env |= {"REDIS_SENTINELS": group.sentinel_list, "REDIS_SENTINEL_SERVICE": group.service}
    rig.env = dict(rig.env, **env)
    rig.settings = replace(
        rig.settings,
        redis_url=env["REDIS_URL"],
        redis_read_url=env["REDIS_READ_URL"],
        redis_sentinels=tuple(("127.0.0.1", p) for p in group.sentinel_ports) if sentinel else (),
        redis_sentinel_service=group.service,
        redis_wait_replicas=1,
    )
    return rig


def test_the_edge_reads_a_replica_and_hears_invalidations_through_it(rig, tmp_path):
    group = RedisGroup(tmp_path / "redis", replicas=1, sentinels=0).start()
    try:
        on_group(rig, group, sentinel=False)
        skus = seed(rig, 20)
        rebuild(rig.projector(), progress=False)
        rig.start_worker()
        edge = rig.start_http("edge")
        admin = rig.start_http("admin")
        alone = rig.logs / "primary-edge"
        alone.mkdir()
        process, primary_edge = start_http("edge", {k: v for k, v in rig.env.items() if k != "REDIS_READ_URL"}, alone)
        rig.processes.append(process)
        pricing = rig.token("pricing")
        primary = redis.Redis.from_url(rig.settings.redis_url)
        replica = redis.Redis.from_url(rig.settings.redis_read_url or "")
        keys = KeyScheme(rig.settings.key_prefix)
        session = requests.Session()
        sku = skus[0]
        page = f"{edge}/p/{sku}"
        wait_until(lambda: session.get(page, timeout=10).status_code == 200, timeout=30, what="the product page")

        # The near cache is in use: a value changed on the primary without an announcement reaches
        # the replica but not the pages, whose snippets the edge's processes keep.
        for _ in range(20):  # each server process fetches and keeps the page's snippets
            assert session.get(page, timeout=10).status_code == 200
        price_key = keys.snippet(1, Kind.PRICE, EN_EUR, sku)
        raw = primary.get(price_key)
        version, _ = split_value(raw) or (None, None)
        assert raw is not None and version is not None
        before = session.get(page, timeout=10).text
        old = json_price(before)
        assert old is not None and old.encode() in raw, (old, raw[:300])
        primary.set(price_key, raw.replace(old.encode(), b"7777.77"), keepttl=True)
        wait_until(lambda: b"7777.77" in (replica.get(price_key) or b""), timeout=5, what="the replica to copy it")
        unannounced = [session.get(page, timeout=10).text for _ in range(10)]
        assert not any("7777.77" in text for text in unannounced), "the near cache was not in use"

        # Changes through the admin API and the projector: each invalidation reaches the edge
        # through the replica (replicated PUBLISH), after the write it announces.
        warm = session.put(f"{admin}{API}/prices/{skus[1]}/EUR", json={"amount": "1.23"}, headers=pricing, timeout=30)
        assert warm.status_code == 200, warm.text  # the admin app's first request is not timed
        # Changes through the admin API and the projector: each invalidation reaches the edge
        # through the replica (replicated PUBLISH), after the write it announces. An edge reading
        # the primary, in the same run, is the baseline.
        timings: dict[str, list[float]] = {"replica": [], "primary": []}
        for i in range(CHANGES):
            amount = f"{20 + i}.{i:02d}"
            started = time.monotonic()
            r = session.put(f"{admin}{API}/prices/{sku}/EUR", json={"amount": amount}, headers=pricing, timeout=10)
            assert r.status_code == 200, r.text
            waiting = {"replica": page, "primary": f"{primary_edge}/p/{sku}"}
            while waiting and time.monotonic() - started < 10:
                for name, url in list(waiting.items()):
                    if json_price(session.get(url, timeout=10).text) == amount:
                        timings[name].append(time.monotonic() - started)
                        del waiting[name]
            assert not waiting, f"price {amount} not shown within 10 s by the edge reading the {list(waiting)}"
        figures = {}
        for name, seconds in timings.items():
            ms = sorted(t * 1000 for t in seconds)
            figures[name] = f"p50 {statistics.median(ms):.0f} ms, max {ms[-1]:.0f} ms"
        print(
            f"\nFIGURE change-to-visible through a replica (admin PUT -> worker -> primary, WAIT 1 -> replica "
            f"-> edge page), n={CHANGES}: {figures['replica']}; an edge reading the primary, same changes: "
            f"{figures['primary']}"
        )
        assert replica.info("replication")["role"] == "slave"

        # A missing snippet: the page is read on the replica, the read-repair request written on
        # the primary.
        missing = keys.snippet(1, Kind.PRICE, EN_EUR, skus[2])
        primary.delete(missing)
        wait_until(lambda: replica.get(missing) is None, timeout=5, what="the replica to drop it")
        degraded = session.get(f"{edge}/p/{skus[2]}", timeout=10)
        assert degraded.status_code == 200 and degraded.headers["Cache-Control"] == "no-store"
        assert primary.smembers(keys.repair_pending) == {f"product:{skus[2]}".encode()}

        # The edge's replica goes away: its pages are the documented 503 (never a 500), /readyz
        # sends the load balancer elsewhere; back when the replica is.
        server = group.servers[1]
        group.kill(server)
        down = [session.get(url, timeout=10) for url in (page, f"{edge}/", f"{edge}/c/gear") * 5]
        assert {classify(r) for r in down} == {"degraded"}, sorted({r.status_code for r in down})
        assert session.get(f"{edge}/readyz", timeout=10).status_code == 503
        group.restart(1)
        wait_until(lambda: session.get(page, timeout=10).status_code == 200, timeout=30, what="pages once it is back")
        assert json_price(session.get(page, timeout=10).text) == f"{20 + CHANGES - 1}.{CHANGES - 1:02d}"
    finally:
        rig.stop_all()
        group.stop()


def json_price(html: str) -> str | None:
    """The EUR price of the product page's JSON-LD offer."""
    marker = '"price": "'
    at = html.find(marker)
    if at < 0:
        marker = '"price":"'
        at = html.find(marker)
    if at < 0:
        return None
    start = at + len(marker)
    return html[start : html.index('"', start)]


# -- failover --------------------------------------------------------------------------------

READERS = 4
WRITERS = 2
PRODUCTS = 40
BEFORE_KILL = 3.0  # seconds of traffic before the primary is killed
AFTER_FAILOVER = 3.0  # seconds of traffic once the sentinels named the new primary


class Traffic:
    """Shoppers fetching pages in a loop, every answer counted, and price writers, every accepted
    write remembered (the last accepted amount per product)."""

    def __init__(self, edge: str, admin: str, pricing: dict[str, str], skus: list[str]) -> None:
        self.edge, self.admin, self.pricing = edge, admin, pricing
        self.paths = ["/", "/c/gear", "/search?q=bag"] + [f"/p/{sku}" for sku in skus]
        self.skus = skus
        self.counts: Counter[str] = Counter()
        self.by_kind: Counter[tuple[str, str]] = Counter()
        #: "before" the kill, "failover" until the sentinels named a new primary, "after".
        self.phase = "before"
        self.by_phase: Counter[tuple[str, str]] = Counter()
        self.errors: list[str] = []
        #: The degraded answers: (page, what it says, phase).
        self.degraded: Counter[tuple[str, int, str]] = Counter()
        self.accepted: dict[str, str] = {}
        self.writes: Counter[str] = Counter()
        self.writes_by_phase: Counter[tuple[str, int]] = Counter()
        self.lock = threading.Lock()
        self.running = True
        self.threads = [threading.Thread(target=self._read, args=(i,), daemon=True) for i in range(READERS)] + [
            threading.Thread(target=self._write, args=(i,), daemon=True) for i in range(WRITERS)
        ]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def stop(self) -> None:
        self.running = False
        for t in self.threads:
            t.join(30)

    def _read(self, n: int) -> None:
        session = requests.Session()
        i = n
        while self.running:
            path = self.paths[i % len(self.paths)]
            i += 1
            kind = "listing" if path.startswith(("/c/", "/search")) else "page"
            try:
                r = session.get(self.edge + path, timeout=10)
                outcome = classify(r)
            except requests.RequestException as exc:
                outcome = "error"
                r = None
                detail = f"{path}: {type(exc).__name__}"
            else:
                detail = f"{path}: {r.status_code} {r.headers.get('Cache-Control')}"
            with self.lock:
                self.counts[outcome] += 1
                self.by_kind[(kind, outcome)] += 1
                self.by_phase[(self.phase, outcome)] += 1
                if outcome == "error":
                    self.errors.append(detail)
                elif outcome == "degraded" and r is not None:
                    page = path.split("?")[0] if kind == "listing" else path[:3]
                    self.degraded[(page, reason(r), self.phase)] += 1

    def _write(self, n: int) -> None:
        session = requests.Session()
        mine = self.skus[n::WRITERS]
        i = 0
        while self.running:
            sku = mine[i % len(mine)]
            amount = f"{100 + i}.{n:02d}"
            i += 1
            try:
                r = session.put(
                    f"{self.admin}{API}/prices/{sku}/EUR", json={"amount": amount}, headers=self.pricing, timeout=30
                )
                status = r.status_code
            except requests.RequestException:
                status = 0
            with self.lock:
                self.writes[str(status)] += 1
                self.writes_by_phase[(self.phase, status)] += 1
                if status == 200:
                    self.accepted[sku] = amount


def reason(r: requests.Response) -> str:
    """What a degraded answer says (vocab/i18n.py's English messages)."""
    if r.status_code == 200:
        return "200 with a part unavailable"
    for words, said in (("page store", "store"), ("being restored", "restoring"), ("Search is not", "search")):
        if words in r.text:
            return f"503 {said}"
    return f"{r.status_code} other"


def classify(r: requests.Response) -> str:
    """ok; degraded: a page documented for a part that is unavailable (a 200 nobody may keep, or
    the 503 page with Retry-After); error: anything else."""
    if r.status_code == 200:
        return "degraded" if r.headers.get("Cache-Control") == "no-store" else "ok"
    if r.status_code == 503 and r.headers.get("Retry-After") and r.headers["Content-Type"].startswith("text/html"):
        return "degraded"
    return "error"


def test_a_killed_primary_is_replaced_and_pages_and_writes_go_on(rig, tmp_path):
    group = RedisGroup(tmp_path / "redis", replicas=2, sentinels=3).start()
    try:
        on_group(rig, group, sentinel=True)
        skus = seed(rig, PRODUCTS)
        rebuild(rig.projector(), progress=False)
        worker = rig.start_worker()
        rig.start_scheduler()  # the relay sweep: outbox rows no task acknowledged are sent again
        edge = rig.start_http("edge")
        admin = rig.start_http("admin")
        session = requests.Session()
        wait_until(lambda: session.get(f"{edge}/", timeout=10).status_code == 200, timeout=30, what="the home page")
        pricing = rig.token("pricing")
        warm = session.put(f"{admin}{API}/prices/{skus[0]}/USD", json={"amount": "1.23"}, headers=pricing, timeout=60)
        assert warm.status_code == 200, warm.text  # the admin app is up before the writers start
        traffic = Traffic(edge, admin, pricing, skus)
        traffic.start()
        time.sleep(BEFORE_KILL)  # traffic before the failure (the test's rhythm, not a wait for a condition)
        old = group.primary()
        assert old is group.servers[0]
        group.kill(old)
        killed = time.monotonic()
        traffic.phase = "failover"
        new = group.wait_failover(old.port, timeout=60)
        failover = time.monotonic() - killed
        traffic.phase = "after"
        time.sleep(AFTER_FAILOVER)  # traffic after the failover
        traffic.stop()
        assert not any(t.is_alive() for t in traffic.threads)

        # Every accepted write is projected on the new primary and visible on the edge.
        versions = price_versions(rig)
        keys = KeyScheme(rig.settings.key_prefix)
        store = redis_clients.snippet_store(rig.settings)
        assert store.connection_pool.get_master_address()[1] == new.port  # type: ignore[attr-defined]
        accepted = dict(traffic.accepted)

        def behind() -> list[str]:
            raws = store.mget([keys.snippet(1, Kind.PRICE, EN_EUR, sku) for sku in accepted])
            late = []
            for (sku, _amount), raw in zip(accepted.items(), raws, strict=True):
                value = split_value(raw)
                if value is None or value[0] != versions[sku]:
                    late.append(sku)
            return late

        poll(lambda: not behind(), timeout=60, interval=0.2)
        lost = behind()
        pages = requests.Session()

        def not_shown() -> list[str]:
            return [
                sku
                for sku, amount in accepted.items()
                if json_price(pages.get(f"{edge}/p/{sku}", timeout=10).text) != amount
            ]

        poll(lambda: not not_shown(), timeout=30, interval=0.2)
        invisible = not_shown()
        listing = pages.get(f"{edge}/c/gear", timeout=10)
        print(
            f"\nFIGURE sentinel failover: primary :{old.port} killed (SIGKILL), :{new.port} promoted after "
            f"{failover:.1f}s (sentinels' down-after 1 s); responses {dict(traffic.counts)} "
            f"(by kind {dict(traffic.by_kind)}; by phase {dict(traffic.by_phase)}; "
            f"degraded (page, answer, phase) {dict(traffic.degraded)}); "
            f"admin writes {dict(traffic.writes)} (by phase {dict(traffic.writes_by_phase)}), "
            f"{len(accepted)} products with an accepted price, "
            f"{len(lost)} not projected, {len(invisible)} not shown by the edge"
        )
        assert not traffic.errors, traffic.errors[:20]
        assert sum(traffic.counts.values()) > 100
        assert set(traffic.writes) == {"200"}, traffic.writes
        assert all(traffic.writes_by_phase[(phase, 200)] > 0 for phase in ("before", "failover", "after"))
        assert all(traffic.by_phase[(phase, "ok")] > 0 for phase in ("before", "failover", "after"))
        assert not lost, f"accepted but not on the new primary: {lost[:10]}"
        assert not invisible, f"accepted but not shown by the edge: {invisible[:10]}"
        assert listing.status_code == 200 and listing.headers.get("Cache-Control") != "no-store"
        assert worker.alive()
    finally:
        rig.stop_all()
        group.stop()


# -- no replica, no acknowledgement ------------------------------------------------------------


def test_a_change_no_replica_confirmed_stays_unacknowledged_until_one_does(rig, tmp_path):
    """REDIS_WAIT_REPLICAS=1 with the only replica killed: the task projects on the primary, but
    WAIT answers 0, so its outbox row is not acknowledged and the task retries; once a replica is
    back the retry confirms and acknowledges it."""
    group = RedisGroup(tmp_path / "redis", replicas=1, sentinels=0).start()
    try:
        on_group(rig, group, sentinel=False)
        skus = seed(rig, 3)
        rebuild(rig.projector(), progress=False)
        worker = rig.start_worker()
        replica = group.servers[1]
        group.kill(replica)
        with rig.pool.connection() as conn:
            commands.put_prices(conn, [(skus[0], "EUR", Decimal("55.55"))])
        rig.dispatch()
        primary = redis.Redis.from_url(rig.settings.redis_url)
        key = KeyScheme(rig.settings.key_prefix).snippet(1, Kind.PRICE, EN_EUR, skus[0])
        wait_until(lambda: b'"price":"55.55"' in (primary.get(key) or b""), timeout=30, what="the projection")
        wait_until(lambda: "NotReplicated" in worker.log(chars=10**6), timeout=30, what="a retry")
        assert rig.unprojected() == 1  # written on the primary alone: not acknowledged
        restarted = group.restart(1)
        wait_until(lambda: rig.unprojected() == 0, timeout=60, what="the acknowledgement once a replica is back")
        assert b'"price":"55.55"' in (redis.Redis(port=restarted.port).get(key) or b"")
    finally:
        rig.stop_all()
        group.stop()
