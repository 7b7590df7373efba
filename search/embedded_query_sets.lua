-- Set algebra for embedded_query.lua: search/embedded.py loads this file and that one as ONE
-- script (this one first), so the helpers below share the plan, KEYS and the temporary keys.
local plan = cjson.decode(ARGV[1])
local next_tmp, temps, zsets = plan.tmp, {}, {}

local function tmp(is_zset)
  local key = KEYS[next_tmp]
  next_tmp = next_tmp + 1
  temps[#temps + 1], zsets[key] = key, is_zset or nil
  return key
end

local function store(args)  -- a command storing into temporary key args[2]
  redis.call(unpack(args))
  redis.call('PEXPIRE', args[2], 30000)  -- should the script fail before the clean-up
  return args[2]
end

local function keys_of(indexes)
  local out = {}
  for i, k in ipairs(indexes) do out[i] = KEYS[k] end
  return out
end

-- c AND (k1 OR k2 ...), as (c AND k1) OR (c AND k2) ...: each costs about min(|c|, |ki|).
-- c == nil stands for every visible product.
local function restrict(c, keys)
  if c == nil and #keys == 1 then return keys[1] end
  local z, pieces = c and zsets[c], keys
  if c ~= nil then
    pieces = {}
    for _, k in ipairs(keys) do
      local out = tmp(z)
      pieces[#pieces + 1] = store(z and {'ZINTERSTORE', out, 2, c, k} or {'SINTERSTORE', out, c, k})
    end
    if #pieces == 1 then return pieces[1] end
  end
  local out = tmp(z)
  local args = {z and 'ZUNIONSTORE' or 'SUNIONSTORE', out}
  if z then args[3] = #pieces end
  for _, p in ipairs(pieces) do args[#args + 1] = p end
  return store(args)
end

local function card(c)
  if c == nil then return redis.call('SCARD', KEYS[plan.visible]) end
  return redis.call(zsets[c] and 'ZCARD' or 'SCARD', c)
end

local function within_price(c, p)
  local out = tmp(true)
  if c == nil then return store({'ZRANGESTORE', out, KEYS[p[1]], p[2], p[3], 'BYSCORE'}) end
  store({'ZINTERSTORE', out, 2, c, KEYS[p[1]], 'WEIGHTS', 0, 1})
  redis.call('ZREMRANGEBYSCORE', out, '-inf', '(' .. p[2])
  redis.call('ZREMRANGEBYSCORE', out, '(' .. p[3], '+inf')
  return out
end

-- Counting facet values against candidates c: ZINTERCARD costs about min(|c|, |value|) per value,
-- which adds up to the whole catalog for a facet with many values (brands); past that, it is
-- cheaper to turn c into a bitmap of product ids once and AND it with each value's bitmap.
local maxid = tonumber(redis.call('GET', KEYS[plan.idseq]) or 0)
local bitmaps, scratch = {}, nil

local function bitmap_of(c)
  if bitmaps[c] then return bitmaps[c] end
  local out = tmp()
  local members = zsets[c] and redis.call('ZRANGE', c, 0, -1) or redis.call('SMEMBERS', c)
  for i = 1, #members, 1000 do
    local ids = redis.call('HMGET', KEYS[plan.ids], unpack(members, i, math.min(i + 999, #members)))
    local args = {'BITFIELD', out}
    for _, id in ipairs(ids) do
      if id then args[#args + 1], args[#args + 2], args[#args + 3], args[#args + 4] = 'SET', 'u1', id, 1 end
    end
    if #args > 2 then redis.call(unpack(args)) end
  end
  redis.call('PEXPIRE', out, 30000)
  bitmaps[c] = out
  return out
end

local function count(c, sets, bits)  -- the size of c AND each value's set
  local n, size, cost = {}, card(c), 0
  if c == nil then
    for j, k in ipairs(sets) do n[j] = redis.call('SCARD', KEYS[k]) end
    return n
  end
  for _, k in ipairs(sets) do cost = cost + math.min(size, redis.call('SCARD', KEYS[k])) end
  if cost <= (bitmaps[c] and 0 or 3 * size) + #sets * maxid / 3000 then
    for j, k in ipairs(sets) do n[j] = redis.call('ZINTERCARD', 2, c, KEYS[k]) end
    return n
  end
  local b = bitmap_of(c)
  scratch = scratch or tmp()
  for j, k in ipairs(bits) do
    redis.call('BITOP', 'AND', scratch, b, KEYS[k])
    n[j] = redis.call('BITCOUNT', scratch)
  end
  redis.call('PEXPIRE', scratch, 30000)
  return n
end

local function members(c)  -- every member of a set or sorted set
  return zsets[c] and redis.call('ZRANGE', c, 0, -1) or redis.call('SMEMBERS', c)
end

local function fill(key, list)  -- SADD in chunks (unpack has a limit); an empty list: no key
  for i = 1, #list, 1000 do redis.call('SADD', key, unpack(list, i, math.min(i + 999, #list))) end
  redis.call('PEXPIRE', key, 30000)
  return key
end

local function diff(c, k)  -- c without the members of set k
  if zsets[c] then return store({'ZDIFFSTORE', tmp(true), 2, c, k}) end
  return store({'SDIFFSTORE', tmp(), c, k})
end

local function union(a, b)  -- scores, if any, mean nothing afterwards
  if zsets[a] or zsets[b] then return store({'ZUNIONSTORE', tmp(true), 2, a, b}) end
  return store({'SUNIONSTORE', tmp(), a, b})
end

-- A variant member is "product SKU U+001F variant SKU" (search/embedded_docs.py VARIANT_SEP).
local SEP = '\31'
local function product_of(member)
  return string.sub(member, 1, string.find(member, SEP, 1, true) - 1)
end
