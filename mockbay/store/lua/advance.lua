-- One `replies:` cursor moves on: its position before this request (0-based), atomically.
-- KEYS[1] cursors (hash: field -> served), KEYS[2] their recency (zset: field -> microseconds)
-- ARGV[1] the cursor's field, ARGV[2] at most this many cursors (least recently used go first)
local served = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], t[1] .. string.format('%06d', t[2]), ARGV[1])
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[2])
if over > 0 then
  local old = redis.call('ZPOPMIN', KEYS[2], over)
  for i = 1, #old, 2 do redis.call('HDEL', KEYS[1], old[i]) end
end
return served - 1
