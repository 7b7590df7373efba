"""The snippet store's write side: version-guarded writes, the generation switch and deletion.

Writes go through one Lua script (guarded_set.lua) on the single and the bulk path alike.
Keys of one product (its variants' own snippets included) share a hash tag, so one script call per
product stays in one slot.
Generations: tasks write to the live generation and, while a rebuild runs, to the one being
built, and while a canary runs, to the canary's (projector/canary.py). The edge's side is web/edge/snippets.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from importlib.resources import files

import redis
from redis.typing import EncodableT

from snipshop.redis_cluster import is_cluster
from snipshop.redis_tools import unlink_matching
from vocab.keys import CanaryRecord, KeyScheme

GUARDED_SET = files("projector").joinpath("guarded_set.lua").read_text()
# One script call carries at most this many keys: big enough to amortize, small enough not to
# block Redis for long.
MAX_KEYS_PER_CALL = 64


class SnippetWriter:
    """Writes rendered snippets into one or more generations, refusing older versions."""

    def __init__(self, client: redis.Redis, keys: KeyScheme, default_ttl: int) -> None:
        self.client = client
        self.keys = keys
        self.default_ttl = default_ttl
        self._script = client.register_script(GUARDED_SET)
        #: Generations rendered with templates of their own (a canary's, built or running, as
        #: :meth:`target_generations` last read them): generation -> templates directory.
        self.templates: dict[int, str] = {}

    def target_generations(self) -> list[int]:
        """Live generation (created as 1 on first use) plus the one being built and the canary's, if any."""
        live, building, canary, building_templates = self.client.mget(
            self.keys.live, self.keys.building, self.keys.canary, self.keys.building_templates
        )
        if live is None:
            self.client.set(self.keys.genseq, 1, nx=True)
            self.client.set(self.keys.live, 1, nx=True)
            live = self.client.get(self.keys.live)
            if live is None:  # deleted again at once (Redis flushed or restarted empty)
                raise RuntimeError(f"{self.keys.live} vanished right after it was set")
        gens = [int(live)]
        if building is not None and int(building) != gens[0]:
            gens.append(int(building))
        record = CanaryRecord.decode(canary)
        if record is not None and record.generation not in gens:
            gens.append(record.generation)
        templates = {}
        if record is not None and record.templates:
            templates[record.generation] = record.templates
        if building is not None and building_templates is not None:
            raw = building_templates
            templates[int(building)] = raw.decode() if isinstance(raw, bytes) else str(raw)
        self.templates = templates
        return gens

    def key(self, gen: int, s) -> str:
        """Where a snippet (``projector.render.Snippet``) lives: a variant's own in its product's hash tag."""
        if s.variant is not None:
            return self.keys.variant_snippet(gen, s.kind, s.ctx, s.ident, s.variant)
        return self.keys.snippet(gen, s.kind, s.ctx, s.ident)

    def write(self, snippets: Iterable, generations: Sequence[int] | None = None) -> int:
        """Write snippets (``projector.render.Snippet``) in one pipeline; return keys written."""
        gens = list(generations) if generations is not None else self.target_generations()
        pipe = self.client.pipeline(transaction=False)
        batch_keys: list[str] = []
        batch_args: list[EncodableT] = []
        calls = 0

        def flush() -> None:
            nonlocal calls
            if batch_keys:
                self._script(keys=list(batch_keys), args=[*batch_args, self.keys.invalidations], client=pipe)
                batch_keys.clear()
                batch_args.clear()
                calls += 1

        last_ident = None
        default_ttl_ms = int(self.default_ttl * 1000)
        for s in snippets:
            # Start a new call when the product changes, keeping one call in one hash slot.
            if s.ident != last_ident or len(batch_keys) >= MAX_KEYS_PER_CALL:
                flush()
                last_ident = s.ident
            ttl_ms = int(s.ttl * 1000) if s.ttl else default_ttl_ms
            value = f"{s.version}\n{s.body}"
            for gen in gens:
                batch_keys.append(self.key(gen, s))
                batch_args += (ttl_ms, value)
        flush()
        if not calls:
            return 0
        return sum(int(n) for n in pipe.execute())


def switch_live(client: redis.Redis, keys: KeyScheme, gen: int, ending_canary: bool = False) -> None:
    """Make ``gen`` the live generation and end the rebuild (and, promoting it, the canary), atomically.

    On a Redis Cluster the pointers are in different slots, where no MULTI reaches: the commands
    run one after the other, the live pointer first (docs/keys.md, "Redis Cluster")."""
    if is_cluster(client):
        client.set(keys.live, gen)
        client.delete(keys.building, keys.building_templates)
        if ending_canary:
            client.delete(keys.canary)
        return
    pipe = client.pipeline(transaction=True)
    pipe.set(keys.live, gen)
    pipe.delete(keys.building, keys.building_templates)
    if ending_canary:
        pipe.delete(keys.canary)
    pipe.execute()


def delete_generation(client: redis.Redis, keys: KeyScheme, gen: int) -> int:
    """Remove every snippet (and embedded index key) of one generation."""
    return unlink_matching(client, keys.generation_pattern(gen))
