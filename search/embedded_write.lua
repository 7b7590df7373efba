-- Version-guarded writes of search documents into one generation of the embedded index.
-- KEYS[1]: the SKU -> id hash, KEYS[2]: the id counter, KEYS[2 + i]: the hash of document i.
-- ARGV[1]: the generation's key prefix (KeyScheme.search_index).
-- ARGV[2]: the count r of the call's registry entries, then r entries of 3 fields: op, key, member.
--   R  SADD key member          V  ZADD key 0 member
-- Registries (facet values, vocabulary) are never undone and belong to no document: each entry
-- comes once per call, however many of its documents share it, and is written whatever their
-- versions (a registered value no document has is what an undone document leaves anyway).
-- Then, per document: SKU, version, entry count n, and n entries of 4 fields: op, key, member, score.
--   S  SADD key member          Z  ZADD key score member     H  HSET key member score
--   B  SETBIT key id 1          (id: the product's number in the generation, given on first write)
-- A document older than the stored one is skipped; the same version is written again. Writing
-- first undoes the memberships listed in the hash's field 'u', then adds the new ones. 'u' is
-- cjson: {S = {key...}, Z = {key...}, H = {key...}, B = {key...}, M = {{key, member}...},
-- N = {{key, member}...}} with keys stored without the prefix; S, Z and H remove the SKU, B clears
-- the product's bit, M (a sorted set member that is not the SKU) and N (a set member that is not
-- the SKU: a variant) remove their member. A hidden document has no entries: it keeps its version
-- (so an older, visible one cannot come back) and is in no set.
-- The undo list names keys that are not in KEYS: fine on a standalone Redis, which is what this
-- index is for (Redis Cluster users take Elasticsearch).
-- Returns the number of documents written.
local prefix = ARGV[1]
local strip = #prefix + 1
local written = 0
local r = tonumber(ARGV[2])
for j = 3, 3 * r, 3 do
  if ARGV[j] == 'R' then
    redis.call('SADD', ARGV[j + 1], ARGV[j + 2])
  else
    redis.call('ZADD', ARGV[j + 1], 0, ARGV[j + 2])
  end
end
local a = 3 + 3 * r
for d = 3, #KEYS do
  local doc = KEYS[d]
  local sku, version, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  local first = a + 3
  a = first + 4 * n
  local stored = redis.call('HGET', doc, 'v')
  if not stored or tonumber(version) >= tonumber(stored) then
    local id = redis.call('HGET', KEYS[1], sku)
    if not id then
      id = redis.call('INCR', KEYS[2])
      redis.call('HSET', KEYS[1], sku, id)
    end
    local old = redis.call('HGET', doc, 'u')
    if old then
      old = cjson.decode(old)
      for op, cmd in pairs({S = 'SREM', Z = 'ZREM', H = 'HDEL'}) do
        for _, key in ipairs(old[op] or {}) do redis.call(cmd, prefix .. key, sku) end
      end
      for _, key in ipairs(old.B or {}) do redis.call('SETBIT', prefix .. key, id, 0) end
      for _, km in ipairs(old.M or {}) do redis.call('ZREM', prefix .. km[1], km[2]) end
      for _, km in ipairs(old.N or {}) do redis.call('SREM', prefix .. km[1], km[2]) end
    end
    local undo = {S = {}, Z = {}, H = {}, B = {}, M = {}, N = {}}
    for j = first, first + 4 * (n - 1), 4 do
      local op, key, member, score = ARGV[j], ARGV[j + 1], ARGV[j + 2], ARGV[j + 3]
      if op == 'S' then
        redis.call('SADD', key, member)
      elseif op == 'Z' then
        redis.call('ZADD', key, score, member)
      elseif op == 'H' then
        redis.call('HSET', key, member, score)
      elseif op == 'B' then
        redis.call('SETBIT', key, id, 1)
      end
      if op == 'Z' and member ~= sku then
        table.insert(undo.M, {key:sub(strip), member})
      elseif op == 'S' and member ~= sku then
        table.insert(undo.N, {key:sub(strip), member})
      elseif undo[op] then
        table.insert(undo[op], key:sub(strip))
      end
    end
    for op, list in pairs(undo) do
      if #list == 0 then undo[op] = nil end  -- cjson writes an empty table as {}, not []
    end
    redis.call('HSET', doc, 'v', version, 'u', cjson.encode(undo))
    written = written + 1
  end
end
return written
