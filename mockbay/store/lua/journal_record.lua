-- Keep one finished exchange in the shared journal, oldest dropped beyond ARGV[3] entries.
-- KEYS[1] exchanges (hash: seq -> JSON), KEYS[2] their order of arrival (list of seq)
-- ARGV[1] seq, ARGV[2] the exchange's JSON, ARGV[3] max entries
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
local over = redis.call('LLEN', KEYS[2]) - tonumber(ARGV[3])
for _ = 1, over do
  redis.call('HDEL', KEYS[1], redis.call('LPOP', KEYS[2]))
end
return 0
