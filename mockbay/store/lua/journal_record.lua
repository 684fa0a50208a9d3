-- Keep one finished exchange in the shared journal; the oldest go first beyond ARGV[3] exchanges
-- or ARGV[4] bytes of JSON (the newest always stays), the in-memory journal's two caps.
-- KEYS[1] exchanges (hash: request id -> JSON, so a lookup by id is one HGET and eviction drops
-- the entry and its index together), KEYS[2] their order of arrival (list of request ids),
-- KEYS[3] the bytes held. ARGV[1] request id, ARGV[2] the exchange's JSON.
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
local held = redis.call('INCRBY', KEYS[3], string.len(ARGV[2]))
local count = redis.call('LLEN', KEYS[2])
while count > tonumber(ARGV[3]) or (held > tonumber(ARGV[4]) and count > 1) do
  local oldest = redis.call('LPOP', KEYS[2])
  held = redis.call('DECRBY', KEYS[3], redis.call('HSTRLEN', KEYS[1], oldest))
  redis.call('HDEL', KEYS[1], oldest)
  count = count - 1
end
return 0
