-- Prepended to the scripts that keep a capped collection, least recently used first out:
-- `field` of the hash `entries` was just used (recency in the zset `used`, scored by Redis's
-- clock in microseconds); beyond `max` fields the least recently used go.
local function touch(entries, used, field, max)
  local t = redis.call('TIME')
  redis.call('ZADD', used, t[1] .. string.format('%06d', t[2]), field)
  local over = redis.call('ZCARD', used) - max
  if over > 0 then
    local old = redis.call('ZPOPMIN', used, over)
    for i = 1, #old, 2 do redis.call('HDEL', entries, old[i]) end
  end
end
