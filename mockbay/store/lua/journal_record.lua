-- Keep one finished exchange in the shared journal; the lowest-numbered go first beyond ARGV[4]
-- exchanges or ARGV[5] bytes of JSON (the newest always stays), the in-memory journal's two caps.
-- KEYS[1] exchanges (hash: request id -> JSON, so a lookup by id is one HGET and eviction drops
-- the entry and its index together), KEYS[2] their ids by sequence number (zset, so the
-- inspector's `?after=N` reads only the newer ones), KEYS[3] the bytes held.
-- ARGV[1] request id, ARGV[2] the exchange's JSON, ARGV[3] its sequence number.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
local held = redis.call('INCRBY', KEYS[3], string.len(ARGV[2]))
local count = redis.call('ZCARD', KEYS[2])
while count > tonumber(ARGV[4]) or (held > tonumber(ARGV[5]) and count > 1) do
  local oldest = redis.call('ZPOPMIN', KEYS[2])[1]
  held = redis.call('DECRBY', KEYS[3], redis.call('HSTRLEN', KEYS[1], oldest))
  redis.call('HDEL', KEYS[1], oldest)
  count = count - 1
end
return 0
