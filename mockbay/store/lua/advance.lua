-- One `replies:` cursor moves on: its position before this request (0-based), atomically.
-- KEYS[1] cursors (hash: field -> served), KEYS[2] their recency (zset: field -> microseconds)
-- ARGV[1] the cursor's field, ARGV[2] at most this many cursors (least recently used go first)
local served = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
touch(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]))
return served - 1
