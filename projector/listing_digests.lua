-- Record what listings depend on, per product, and say whether any of it changed.
-- KEYS[1]: the generation's digest hash ({prefix}:{gen}:listed).
-- ARGV: triples of SKU, source version, digest.
-- A stored entry of a newer version wins (its document won in the index too); an entry of the
-- same or an older version is replaced. Returns 1 when some product's digest differs from (or
-- is missing in) the stored one, else 0.
local changed = 0
for i = 1, #ARGV, 3 do
  local sku, version, digest = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2]
  local stored = redis.call('HGET', KEYS[1], sku)
  local keep = true
  if stored then
    local space = string.find(stored, ' ', 1, true)
    local stored_version = tonumber(string.sub(stored, 1, space - 1))
    if stored_version > version then
      keep = false
    elseif string.sub(stored, space + 1) == digest then
      keep = stored_version ~= version
    else
      changed = 1
    end
  else
    changed = 1
  end
  if keep then redis.call('HSET', KEYS[1], sku, ARGV[i + 1] .. ' ' .. digest) end
end
return changed
