-- Keep finished exchanges in the shared journal; the lowest-numbered go first beyond ARGV[1]
-- exchanges or ARGV[2] bytes of JSON (the newest always stays), the in-memory journal's two caps.
-- KEYS[1] exchanges (hash: request id -> JSON, so a lookup by id is one HGET and eviction drops
-- the entry and its index together), KEYS[2] their ids by sequence number (zset, so the
-- inspector's `?after=N` reads only the newer ones), KEYS[3] the bytes held, KEYS[4] their ids
-- by the order they were recorded in (zset: exchanges finish out of order, see
-- journal_since.lua), KEYS[5] the count of exchanges recorded, which numbers that order, KEYS[6]
-- the ids of the unmatched ones by sequence number (zset, so `GET /_mockbay/unmatched` reads
-- only those).
-- ARGV[3..] (request id, the exchange's JSON, its sequence number, 1 when it is unmatched) for
-- each exchange.
local held = 0
for i = 3, #ARGV, 4 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('ZADD', KEYS[2], ARGV[i + 2], ARGV[i])
  redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[5]), ARGV[i])
  if ARGV[i + 3] == '1' then
    redis.call('ZADD', KEYS[6], ARGV[i + 2], ARGV[i])
  end
  held = redis.call('INCRBY', KEYS[3], string.len(ARGV[i + 1]))
end
local count = redis.call('ZCARD', KEYS[2])
while count > tonumber(ARGV[1]) or (held > tonumber(ARGV[2]) and count > 1) do
  local oldest = redis.call('ZPOPMIN', KEYS[2])[1]
  held = redis.call('DECRBY', KEYS[3], redis.call('HSTRLEN', KEYS[1], oldest))
  redis.call('HDEL', KEYS[1], oldest)
  redis.call('ZREM', KEYS[4], oldest)
  redis.call('ZREM', KEYS[6], oldest)
  count = count - 1
end
return 0
