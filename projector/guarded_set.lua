-- Version-guarded snippet writes: the one path by which snippets reach Redis.
-- KEYS[i]: snippet key; ARGV[3i-2]: source version, ARGV[3i-1]: TTL in ms, ARGV[3i]: body.
-- A value is stored as "<version>\n<body>". An older version never replaces a newer one;
-- the same version is written again (same source state, fresh TTL).
-- Returns the number of keys written.
local written = 0
for i, key in ipairs(KEYS) do
  local version = tonumber(ARGV[3 * i - 2])
  local current = redis.call('GET', key)
  local current_version = current and tonumber(string.match(current, '^(%d+)\n'))
  if not current_version or version >= current_version then
    redis.call('SET', key, ARGV[3 * i - 2] .. '\n' .. ARGV[3 * i], 'PX', ARGV[3 * i - 1])
    written = written + 1
  end
end
return written
