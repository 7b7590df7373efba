"""Redis helpers shared by the projector and the embedded search index.

Part of the process frame (like :mod:`snipshop.config` and :mod:`snipshop.logs`): it imports
nothing of the shop, so both sides can use it without importing each other.
"""

from __future__ import annotations

import redis

#: Keys one SCAN step visits.
DELETE_STEP = 10_000

# One SCAN step and the UNLINK of what it matched, inside Redis: no key travels to the client.
# Each call is a short command (DELETE_STEP keys visited), so Redis keeps serving in between.
UNLINK_STEP = """
local reply = redis.call('SCAN', ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
local found = reply[2]
for i = 1, #found, 1000 do
  redis.call('UNLINK', unpack(found, i, math.min(i + 999, #found)))
end
return {reply[1], #found}
"""


def unlink_matching(client: redis.Redis, pattern: str) -> int:
    """Delete every key matching ``pattern`` (SCAN + UNLINK, never KEYS); return how many."""
    step = client.register_script(UNLINK_STEP)
    cursor, deleted = b"0", 0
    while True:
        cursor, n = step(args=[cursor, pattern, DELETE_STEP])
        deleted += int(n)
        if cursor in (b"0", 0, "0"):
            return deleted
