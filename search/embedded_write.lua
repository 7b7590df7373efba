-- Version-guarded writes of search documents into one generation of the embedded index.
-- KEYS[1]: the SKU -> id hash, KEYS[2]: the id counter, KEYS[2 + i]: the hash of document i.
-- ARGV[1]: the generation's key prefix (KeyScheme.search_index).
-- ARGV[2]: the count g of the call's registry groups, then g groups: op, key, count n, n members.
--   R  SADD key member...        V  ZADD key 0 member...
-- Registries (facet values, vocabulary) are never undone and belong to no document: a member
-- comes once per call, however many of its documents share it, and is written whatever their
-- versions (a registered value no document has is what an undone document leaves anyway).
-- Then, per document: SKU, version, the counts s, b, z, h, n, m of its memberships of each kind,
-- then the memberships, kind by kind (search.embedded_docs.Memberships):
--   s keys           SADD key SKU
--   b keys           SETBIT key id 1   (id: the product's number in the generation, given on first write)
--   z key, score     ZADD key score SKU
--   h key, value     HSET key SKU value
--   n key, member    SADD key member
--   m key, member, score   ZADD key score member
-- A document older than the stored one is skipped; the same version is written again. Writing
-- first undoes the memberships listed in the hash's field 'u', then adds the new ones. 'u' is
-- cjson: {S = {key...}, Z = {key...}, H = {key...}, B = {key...}, M = {{key, member}...},
-- N = {{key, member}...}} with keys stored without the prefix; S, Z and H remove the SKU, B clears
-- the product's bit, M (a sorted set member that is not the SKU) and N (a set member that is not
-- the SKU: a variant) remove their member. A hidden document has no memberships: it keeps its
-- version (so an older, visible one cannot come back) and is in no set.
-- The undo list names keys that are not in KEYS: fine on a standalone Redis, which is what this
-- index is for (Redis Cluster users take Elasticsearch).
-- Returns the number of documents written.
local prefix = ARGV[1]
local strip = #prefix + 1
local written = 0
local a = 3
for _ = 1, tonumber(ARGV[2]) do
  local op, key, n = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  a = a + 3
  for i = a, a + n - 1, 1000 do  -- in chunks: unpack has a limit
    local last = math.min(i + 999, a + n - 1)
    if op == 'R' then
      redis.call('SADD', key, unpack(ARGV, i, last))
    else
      local args = {}
      for j = i, last do args[#args + 1], args[#args + 2] = 0, ARGV[j] end
      redis.call('ZADD', key, unpack(args))
    end
  end
  a = a + n
end

local function keys_of(from, to, step)  -- the keys ARGV[from], ARGV[from + step]..., without the prefix
  local out = {}
  for j = from, to, step do out[#out + 1] = ARGV[j]:sub(strip) end
  return out
end

local function pairs_of(from, to, step)  -- {key without the prefix, member} of each membership
  local out = {}
  for j = from, to, step do out[#out + 1] = {ARGV[j]:sub(strip), ARGV[j + 1]} end
  return out
end

for d = 3, #KEYS do
  local doc = KEYS[d]
  local sku, version = ARGV[a], ARGV[a + 1]
  local s = a + 8
  local b = s + tonumber(ARGV[a + 2])
  local z = b + tonumber(ARGV[a + 3])
  local h = z + 2 * tonumber(ARGV[a + 4])
  local n = h + 2 * tonumber(ARGV[a + 5])
  local m = n + 2 * tonumber(ARGV[a + 6])
  a = m + 3 * tonumber(ARGV[a + 7])
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
    for j = s, b - 1 do redis.call('SADD', ARGV[j], sku) end
    for j = b, z - 1 do redis.call('SETBIT', ARGV[j], id, 1) end
    for j = z, h - 1, 2 do redis.call('ZADD', ARGV[j], ARGV[j + 1], sku) end
    for j = h, n - 1, 2 do redis.call('HSET', ARGV[j], sku, ARGV[j + 1]) end
    for j = n, m - 1, 2 do redis.call('SADD', ARGV[j], ARGV[j + 1]) end
    for j = m, a - 1, 3 do redis.call('ZADD', ARGV[j], ARGV[j + 2], ARGV[j + 1]) end
    local undo = {
      S = keys_of(s, b - 1, 1), B = keys_of(b, z - 1, 1), Z = keys_of(z, h - 1, 2), H = keys_of(h, n - 1, 2),
      N = pairs_of(n, m - 1, 2), M = pairs_of(m, a - 1, 3),
    }
    for op, list in pairs(undo) do
      if #list == 0 then undo[op] = nil end  -- cjson writes an empty table as {}, not []
    end
    redis.call('HSET', doc, 'v', version, 'u', cjson.encode(undo))
    written = written + 1
  end
end
return written
