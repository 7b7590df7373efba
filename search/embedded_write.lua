-- Version-guarded writes of search documents into one generation of the embedded index.
-- KEYS[1]: the SKU -> id hash, KEYS[2]: the id counter, KEYS[2 + i]: the hash of document i.
-- ARGV[1]: the generation's key prefix (KeyScheme.search_index).
-- ARGV[2]: the call, JSON: {"r": [[op, key, [member...]]...], "d": [[SKU, version, s, b, z, h, n, m]...]};
-- ARGV[2 + i]: document i's undo list (JSON, below), stored as it comes. Keys are without the
-- prefix (vocab.keys.IndexKey): the same call for every generation.
-- "r" are the registries (facet values, vocabulary): R is SADD key member..., V is ZADD key 0
-- member.... They are never undone and belong to no document: a member comes once per call,
-- however many of its documents share it, and is written whatever their versions (a registered
-- value no document has is what an undone document leaves anyway).
-- "d" are the documents (the i-th is KEYS[2 + i]), their memberships as flat lists by kind
-- (search.embedded_docs.Memberships):
--   s [key...]                  SADD key SKU
--   b [key...]                  SETBIT key id 1   (id: the product's number in the generation, given on first write)
--   z [key, score...]           ZADD key score SKU
--   h [key, value...]           HSET key SKU value
--   n [key, member...]          SADD key member
--   m [key, member, score...]   ZADD key score member
-- A document older than the stored one is skipped; the same version is written again. Writing
-- first undoes the memberships listed in the hash's field 'u', then adds the new ones. 'u' is
-- the document's undo list, which the caller builds from the same memberships
-- (search.embedded_docs.Memberships.undo), so the script encodes nothing: {S = {key...},
-- Z = {key...}, H = {key...}, B = {key...}, M = {{key, member}...}, N = {{key, member}...}}, keys
-- without the prefix, empty lists left out; S, Z and H remove the SKU, B clears the product's
-- bit, M (a sorted set member that is not the SKU) and N (a set member that is not the SKU: a
-- variant) remove their member. A hidden document has no memberships: it keeps its
-- version (so an older, visible one cannot come back) and is in no set.
-- The undo list names keys that are not in KEYS: fine on a standalone Redis, which is what this
-- index is for (Redis Cluster users take Elasticsearch).
-- Returns the number of documents written.
local prefix = ARGV[1]
local call = cjson.decode(ARGV[2])
local written = 0
for _, group in ipairs(call.r) do
  local op, key, members = group[1], prefix .. group[2], group[3]
  for i = 1, #members, 1000 do  -- in chunks: unpack has a limit
    local last = math.min(i + 999, #members)
    if op == 'R' then
      redis.call('SADD', key, unpack(members, i, last))
    else
      local args = {}
      for j = i, last do args[#args + 1], args[#args + 2] = 0, members[j] end
      redis.call('ZADD', key, unpack(args))
    end
  end
end

for d, entry in ipairs(call.d) do
  local doc = KEYS[2 + d]
  local sku, version = entry[1], entry[2]
  local sets, bits, scores, fields, members, ranked = entry[3], entry[4], entry[5], entry[6], entry[7], entry[8]
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
    for _, key in ipairs(sets) do redis.call('SADD', prefix .. key, sku) end
    for _, key in ipairs(bits) do redis.call('SETBIT', prefix .. key, id, 1) end
    for j = 1, #scores, 2 do redis.call('ZADD', prefix .. scores[j], scores[j + 1], sku) end
    for j = 1, #fields, 2 do redis.call('HSET', prefix .. fields[j], sku, fields[j + 1]) end
    for j = 1, #members, 2 do redis.call('SADD', prefix .. members[j], members[j + 1]) end
    for j = 1, #ranked, 3 do redis.call('ZADD', prefix .. ranked[j], ranked[j + 2], ranked[j + 1]) end
    redis.call('HSET', doc, 'v', version, 'u', ARGV[2 + d])
    written = written + 1
  end
end
return written
