-- Version-guarded snippet writes: the one path by which snippets reach Redis.
-- KEYS[i]: snippet key; ARGV[2i-1]: TTL in ms; ARGV[2i]: the value, "<source version>\n<body>".
-- ARGV[2n+1] (optional): the invalidation channel.
-- An older version never replaces a newer one; the same version is written again (same source
-- state, fresh TTL).
-- Keys whose existing value changed are published on the channel, newline-separated, in this
-- same atomic call: an edge that cached the old value (web/edge/nearcache.py) drops it. New keys
-- are not published (nobody can hold them), so a rebuild into a new generation publishes nothing.
-- Returns the number of keys written.
local written = 0
local changed = {}
for i, key in ipairs(KEYS) do
  local value = ARGV[2 * i]
  local version = tonumber(string.match(value, '^(%d+)\n'))
  local current = redis.call('GET', key)
  local current_version = current and tonumber(string.match(current, '^(%d+)\n'))
  if not current_version or version >= current_version then
    redis.call('SET', key, value, 'PX', ARGV[2 * i - 1])
    written = written + 1
    if current and current ~= value then changed[#changed + 1] = key end
  end
end
local channel = ARGV[2 * #KEYS + 1]
if channel and #changed > 0 then redis.call('PUBLISH', channel, table.concat(changed, '\n')) end
return written
