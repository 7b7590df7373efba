-- One listing or search query against one generation of the embedded index, atomically.
-- KEYS: the keys the query reads, then temporary keys from plan.tmp on (deleted at the end).
-- ARGV[1]: the plan (JSON, built by search/embedded_query.py); numbers in it index KEYS:
--   visible  the set of all visible products (every other set holds visible products only)
--   base     sets every match is in (the category)
--   stock    the set of products in stock (any variant in stock), with in-stock only
--   terms    per query word {keys, name keys}: a match is in one of keys; name keys rank
--   price    {key, min, max}: a range of the currency's price zset (min/max may be -inf/+inf)
--   filters  {facet position, value keys}: OR within a facet, AND across facets
--   facets   per facet its value keys, to count; a facet with a filter counts without it
--   bitmaps  per facet its values' bitmaps; ids, idseq: the SKU -> id hash and the id counter
--   sort     {key, weight}: the zset to order by, ascending (weight -1: descending); absent:
--            relevance; missing: products not in the zset come last, by SKU; names: the names
--            hash (name sort: ties of the rank are put in order by the caller, by full name)
--   v        with variant-level conditions (attribute filters, price, stock): their variant
--            level: multi (the products with variants), all (every variant member, lex), stock,
--            price {key, min, max}, filters {position, value keys}, facets (per facet its
--            values' variant sets; none for the brand), sold_out and sold_out_bitmaps (per facet
--            the sets/bitmaps of products with variants whose variants with the value are all
--            sold out), sort (the currency's variant prices), stock_sort (the products with
--            variants' cheapest in-stock prices)
--   offset, count: the page
-- Returns {total, window, scores or names, rank of window[1], sign, tail, facet counts}: the
-- caller sorts the window by (sign * score or name, SKU), takes the page from it and fills up
-- with the tail (products without a score).
-- The helpers (tmp, store, restrict, card, within_price, count, members, fill, diff, union,
-- product_of) are in embedded_query_sets.lua.

-- Every constraint with its size (an upper bound); applying the smallest first makes a query
-- cost about what its most selective part matches, whatever the order of its parts.
local constraints = {}
local function add(keys, pos)
  local size = 0
  for _, k in ipairs(keys) do size = size + redis.call('SCARD', k) end
  constraints[#constraints + 1] = {keys = keys, pos = pos, size = size}
end
for _, k in ipairs(plan.base) do add({KEYS[k]}) end
if plan.stock then add({KEYS[plan.stock]}) end
for _, term in ipairs(plan.terms) do add(keys_of(term[1])) end
for _, f in ipairs(plan.filters) do add(keys_of(f[2]), f[1]) end
if plan.price then
  local p = plan.price
  constraints[#constraints + 1] = {price = p, size = redis.call('ZCOUNT', KEYS[p[1]], p[2], p[3])}
end
table.sort(constraints, function(a, b) return a.size < b.size end)

-- The candidates without the selection of facet position `skip`, narrowing `start` (nil: every
-- visible product), with the price range unless `noprice`; from nil with the price: kept.
local chains = {}
local function filtered(skip, start, noprice)
  local key = skip or 0
  if start == nil and not noprice and chains[key] then return chains[key][1] end
  local x = start
  for _, con in ipairs(constraints) do
    if con.price then
      if not noprice then x = within_price(x, con.price) end
    elseif con.pos == nil or con.pos ~= skip then
      x = restrict(x, con.keys)
    end
  end
  if start == nil and not noprice then chains[key] = {x} end
  return x
end

-- Products with variants (docs/search-embedded.md). A product-level set holds a product if ANY of
-- its variants qualifies. That is exact for simple products, and for products with variants as
-- long as at most one variant-level condition other than a price range is asked (a selection of
-- several values of one facet is one condition). Past that the matches are the simple ones from
-- the product-level chain plus the products with variants that have ONE variant passing every
-- variant-level condition. Without products with variants (a simple catalog) nothing below runs.
local V = plan.v
local multi = V and redis.call('SCARD', KEYS[V.multi]) or 0
local vcons = {}
if multi > 0 then
  if V.stock then vcons[1] = {keys = {KEYS[V.stock]}, stock = true, size = redis.call('SCARD', KEYS[V.stock])} end
  for _, f in ipairs(V.filters) do
    local keys, size = keys_of(f[2]), 0
    for _, k in ipairs(keys) do size = size + redis.call('SCARD', k) end
    vcons[#vcons + 1] = {keys = keys, pos = f[1], size = size}
  end
  if V.price then
    local p = V.price
    vcons[#vcons + 1] = {price = p, size = redis.call('ZCOUNT', KEYS[p[1]], p[2], p[3])}
  end
  table.sort(vcons, function(a, b) return a.size < b.size end)
end

local function conditions(skip)  -- the variant-level conditions but those of facet position skip
  local cons = {}
  for _, con in ipairs(vcons) do
    if con.pos == nil or con.pos ~= skip then cons[#cons + 1] = con end
  end
  return cons
end

local function exact(cons)  -- do the product-level sets answer these conditions exactly?
  return #cons == 0 or (#cons == 1 and not cons[1].price)
end

local function narrow(v, cons)  -- variants v (nil: all) passing every condition of cons
  for _, con in ipairs(cons) do
    if con.price then v = within_price(v, con.price) else v = restrict(v, con.keys) end
  end
  return v
end

-- The variants of the products c0 that pass cons (smallest first), and the set of their products.
-- From the products' variants (a lex range of `all` each) when they are fewer than the smallest
-- condition's variants, else from the conditions, keeping the variants of c0 (all of them when c0
-- is every product with variants).
local function passing(c0, cons)
  local v, list
  local size = card(c0)
  if size * redis.call('ZCARD', KEYS[V.all]) / multi <= cons[1].size then
    local found = {}
    for _, p in ipairs(members(c0)) do
      for _, m in ipairs(redis.call('ZRANGEBYLEX', KEYS[V.all], '[' .. p .. SEP, '[' .. p .. SEP .. '\255')) do
        found[#found + 1] = m
      end
    end
    v = narrow(fill(tmp(), found), cons)
    list = members(v)
  elseif size == multi then
    v = narrow(nil, cons)
    list = members(v)
  else
    local all = members(narrow(nil, cons))
    list = {}
    for i = 1, #all, 1000 do
      local products = {}
      for j = i, math.min(i + 999, #all) do products[#products + 1] = product_of(all[j]) end
      for j, yes in ipairs(redis.call('SMISMEMBER', c0, unpack(products))) do
        if yes == 1 then list[#list + 1] = all[i + j - 1] end
      end
    end
    v = fill(tmp(), list)
  end
  local seen, products = {}, {}
  for _, m in ipairs(list) do
    local p = product_of(m)
    if not seen[p] then seen[p], products[#products + 1] = true, p end
  end
  return v, fill(tmp(), products)
end

-- Without the selection of facet position `skip` (nil: none), split into `simple` (the simple
-- products matching), `variants` (the passing variants of the others) and `products` (theirs).
local splits = {}
local function split(skip)
  local key = skip or 0
  if splits[key] then return splits[key] end
  local f = filtered(skip)
  -- the candidate products with variants: without a price range those among f, else the chain
  -- again from with_variants without it (their product-level price is the cheapest variant's)
  local c0 = plan.price and filtered(skip, KEYS[V.multi], true) or restrict(f, {KEYS[V.multi]})
  local s = {simple = diff(f, KEYS[V.multi])}
  s.variants, s.products = passing(c0, conditions(skip))
  splits[key] = s
  return s
end

local unions = {}
local function matched(skip)  -- the matches without the selection of facet position skip
  if exact(conditions(skip)) then return filtered(skip) end
  local key = skip or 0
  if not unions[key] then
    local s = split(skip)
    unions[key] = union(s.simple, s.products)
  end
  return unions[key]
end

local function count_products(v, keys)  -- per value: the products of v's variants having it
  local n = {}
  for j, k in ipairs(keys) do
    local seen, c = {}, 0
    local both = zsets[v] and redis.call('ZINTER', 2, v, KEYS[k]) or redis.call('SINTER', v, KEYS[k])
    for _, m in ipairs(both) do
      local p = product_of(m)
      if not seen[p] then seen[p], c = true, c + 1 end
    end
    n[j] = c
  end
  return n
end

local selected = {}
for _, f in ipairs(plan.filters) do selected[f[1]] = true end
local all = matched(nil)
local total = card(all)

-- An attribute value counts the products having it on a variant that passes the other
-- conditions: the product-level sets when there are none; with in-stock only, those minus the
-- products whose variants with the value are all sold out (`sold_out`); else the passing variants.
local counts = {}
for pos, values in ipairs(plan.facets) do
  local skip = selected[pos] and pos or nil
  local cons = conditions(skip)
  if pos == 1 or #cons == 0 then  -- the brand is product-level
    counts[pos] = count(matched(skip), values, plan.bitmaps[pos])
  elseif #cons == 1 and cons[1].stock then
    local m = matched(skip)
    counts[pos] = count(m, values, plan.bitmaps[pos])
    for j, n in ipairs(count(m, V.sold_out[pos], V.sold_out_bitmaps[pos])) do counts[pos][j] = counts[pos][j] - n end
  else
    local s = split(skip)
    counts[pos] = count(s.simple, values, plan.bitmaps[pos])
    for j, n in ipairs(count_products(s.variants, V.facets[pos])) do counts[pos][j] = counts[pos][j] + n end
  end
end

-- Sorting by price with variant-level conditions: the cheapest passing variant's price for the
-- products with variants, the product's own for simple ones, in one temporary sorted set.
-- With in-stock only: the product's price, replaced for a product with variants by its cheapest
-- in-stock variant's (always higher or equal, so MAX; inf: no such price, so dropped: last).
local sortkey = plan.sort and KEYS[plan.sort[1]]
local cons = conditions(nil)
if V and V.sort and #cons == 1 and cons[1].stock then
  local own = store({'ZINTERSTORE', tmp(true), 2, all, sortkey, 'WEIGHTS', 0, 1})
  local stocked = store({'ZINTERSTORE', tmp(true), 2, all, KEYS[V.stock_sort], 'WEIGHTS', 0, 1})
  sortkey = store({'ZUNIONSTORE', tmp(true), 2, own, stocked, 'AGGREGATE', 'MAX'})
  redis.call('ZREMRANGEBYSCORE', sortkey, '+inf', '+inf')
elseif V and V.sort and #cons > 0 then
  local s = split(nil)
  sortkey = store({'ZINTERSTORE', tmp(true), 2, s.simple, sortkey, 'WEIGHTS', 0, 1})
  local priced = store({'ZINTERSTORE', tmp(true), 2, s.variants, KEYS[V.sort], 'WEIGHTS', 0, 1})
  local rows, seen, args = redis.call('ZRANGE', priced, 0, -1, 'WITHSCORES'), {}, {}
  for i = 1, #rows, 2 do  -- ascending: a product's first variant is its cheapest
    local p = product_of(rows[i])
    if not seen[p] then seen[p], args[#args + 1], args[#args + 2] = true, rows[i + 1], p end
  end
  for i = 1, #args, 1000 do redis.call('ZADD', sortkey, unpack(args, i, math.min(i + 999, #args))) end
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
    local k, w = sortkey, plan.sort[2]
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
    local rest = store({'ZDIFFSTORE', tmp(true), 2, cands, sortkey})
    tail = redis.call('ZRANGE', rest, math.max(0, plan.offset - scored), last - scored)
  end
end

for i = 1, #temps, 1000 do redis.call('DEL', unpack(temps, i, math.min(i + 999, #temps))) end
return {total, window, values, first, sign, tail, counts}
