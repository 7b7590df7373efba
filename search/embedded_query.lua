-- One listing or search query against one generation of the embedded index, atomically.
-- KEYS: the keys the query reads, then temporary keys from plan.tmp on (deleted at the end).
-- ARGV[1]: the plan (JSON, built by search/embedded_query.py); numbers in it index KEYS:
--   visible  the set of all visible products (every other set holds visible products only)
--   base     sets every match is in (the category, in stock)
--   terms    per query word {keys, name keys}: a match is in one of keys; name keys rank
--   price    {key, min, max}: a range of the currency's price zset (min/max may be -inf/+inf)
--   filters  {facet position, value keys}: OR within a facet, AND across facets
--   facets   per facet its value keys, to count; a facet with a filter counts without it
--   bitmaps  per facet its values' bitmaps; ids, idseq: the SKU -> id hash and the id counter
--   sort     {key, weight}: the zset to order by, ascending (weight -1: descending); absent:
--            relevance; missing: products not in the zset come last, by SKU; names: the names
--            hash (name sort: ties of the rank are put in order by the caller, by full name)
--   offset, count: the page
-- Returns {total, window, scores or names, rank of window[1], sign, tail, facet counts}: the
-- caller sorts the window by (sign * score or name, SKU), takes the page from it and fills up
-- with the tail (products without a score).
-- The helpers (tmp, store, restrict, card, within_price, count) are in embedded_query_sets.lua.

-- Every constraint with its size (an upper bound); applying the smallest first makes a query
-- cost about what its most selective part matches, whatever the order of its parts.
local constraints = {}
local function add(keys, pos)
  local size = 0
  for _, k in ipairs(keys) do size = size + redis.call('SCARD', k) end
  constraints[#constraints + 1] = {keys = keys, pos = pos, size = size}
end
for _, k in ipairs(plan.base) do add({KEYS[k]}) end
for _, term in ipairs(plan.terms) do add(keys_of(term[1])) end
for _, f in ipairs(plan.filters) do add(keys_of(f[2]), f[1]) end
if plan.price then
  local p = plan.price
  constraints[#constraints + 1] = {price = p, size = redis.call('ZCOUNT', KEYS[p[1]], p[2], p[3])}
end
table.sort(constraints, function(a, b) return a.size < b.size end)

local function filtered(skip)  -- the candidates without the selection of facet position `skip`
  local x = nil
  for _, con in ipairs(constraints) do
    if con.price then
      x = within_price(x, con.price)
    elseif con.pos == nil or con.pos ~= skip then
      x = restrict(x, con.keys)
    end
  end
  return x
end

local all = filtered(nil)
local total = card(all)

local counts = {}
for pos, values in ipairs(plan.facets) do
  local source = all
  for _, f in ipairs(plan.filters) do
    if f[1] == pos then source = filtered(pos) end
  end
  counts[pos] = count(source, values, plan.bitmaps[pos])
end

-- The first `need` products of sorted set k (read in order, from the end if rev) that are in
-- the candidates, plus the rest of the last one's tie group; nil when that reads too much.
local function walk(cands, k, rev, need, budget)
  local size = redis.call('ZCARD', k)
  local chunk = math.min(math.max(math.ceil(2 * need * size / math.max(total, 1)), 128), 4096)
  local hits, scores, pos = {}, {}, 0
  while pos < size do
    if pos > budget then return nil end
    local batch = rev and redis.call('ZRANGE', k, pos, pos + chunk - 1, 'REV', 'WITHSCORES')
      or redis.call('ZRANGE', k, pos, pos + chunk - 1, 'WITHSCORES')
    local members = {}
    for i = 1, #batch, 2 do members[#members + 1] = batch[i] end
    local found = redis.call(zsets[cands] and 'ZMSCORE' or 'SMISMEMBER', cands, unpack(members))
    for i, m in ipairs(members) do
      if found[i] and found[i] ~= 0 then
        if #hits >= need and batch[2 * i] ~= scores[need] then return hits, scores, true end
        hits[#hits + 1], scores[#scores + 1] = m, batch[2 * i]
      end
    end
    pos = pos + chunk
  end
  return hits, scores, false
end

local window, values, first, sign, tail = {}, {}, plan.offset, 1, {}
local need, last = plan.offset + plan.count, plan.offset + plan.count - 1
if plan.count > 0 and plan.offset < total then
  local cands = all or KEYS[plan.visible]
  local sorted, scored, done, hits, scores
  if plan.sort then
    local k, w = KEYS[plan.sort[1]], plan.sort[2]
    local ksize = redis.call('ZCARD', k)
    if need * ksize <= total * total then  -- reading k in order is cheaper than sorting the candidates
      hits, scores, done = walk(cands, k, w < 0, need, 4 * need * ksize / total + 8192)
    end
    if hits then  -- keep the page and the whole tie groups at its ends
      sign, scored, first = w, #hits, plan.offset
      while first > 0 and first < #hits and scores[first] == scores[first + 1] do first = first - 1 end
      for i = first + 1, #hits do window[#window + 1], values[#values + 1] = hits[i], scores[i] end
    else
      sorted = store({'ZINTERSTORE', tmp(true), 2, cands, k, 'WEIGHTS', 0, w})
    end
  else  -- relevance: minus the number of query words found in the name, then SKU
    local args = {'ZUNIONSTORE', tmp(true), 1 + #plan.terms, cands}
    local weights = {'WEIGHTS', 0}
    for _, term in ipairs(plan.terms) do
      args[#args + 1], weights[#weights + 1] = restrict(cands, keys_of(term[2])), -1
    end
    for _, w in ipairs(weights) do args[#args + 1] = w end
    sorted = store(args)
  end
  if sorted then
    scored, window = redis.call('ZCARD', sorted), {}
    local head = redis.call('ZRANGE', sorted, plan.offset, last, 'WITHSCORES')
    if #head > 0 and plan.names then  -- whole tie groups: the rank holds a name's start only
      first = redis.call('ZCOUNT', sorted, '-inf', '(' .. head[2])
      head = redis.call('ZRANGE', sorted, head[2], head[#head], 'BYSCORE', 'WITHSCORES')
    end
    for i = 1, #head, 2 do window[#window + 1], values[#values + 1] = head[i], head[i + 1] end
  end
  if plan.names and #window > 0 then
    values = {}
    for i = 1, #window, 1000 do  -- in chunks: unpack has a limit
      local part = redis.call('HMGET', KEYS[plan.names], unpack(window, i, math.min(i + 999, #window)))
      for _, name in ipairs(part) do values[#values + 1] = name or '' end
    end
  end
  if plan.missing and not done and last >= scored then
    local rest = store({'ZDIFFSTORE', tmp(true), 2, cands, KEYS[plan.sort[1]]})
    tail = redis.call('ZRANGE', rest, math.max(0, plan.offset - scored), last - scored)
  end
end

if #temps > 0 then redis.call('DEL', unpack(temps)) end
return {total, window, values, first, sign, tail, counts}
