-- Keep what an admitted request did to the simulated prompt cache: refresh the live entries it
-- read (each for its own lifetime) and store the prefixes it wrote. At most ARGV[1] entries: the
-- expired go first, then those nearest their expiry (the least recently used of one lifetime).
-- KEYS[1] expiry (zset: prefix hash -> epoch seconds), KEYS[2] lifetimes (hash: -> seconds)
-- ARGV[1] max entries, ARGV[2] n, ARGV[3 .. 2+n] keys read, then (key, lifetime) pairs written.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local max, n = tonumber(ARGV[1]), tonumber(ARGV[2])
local function at(seconds) return string.format('%.6f', now + seconds) end
for i = 3, 2 + n do
  local expires = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if expires and tonumber(expires) > now then
    redis.call('ZADD', KEYS[1], at(tonumber(redis.call('HGET', KEYS[2], ARGV[i]))), ARGV[i])
  end
end
if max < 1 then return 0 end
for i = 3 + n, #ARGV, 2 do
  if redis.call('ZCARD', KEYS[1]) >= max then
    local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', at(0))
    for _, key in ipairs(dead) do
      redis.call('ZREM', KEYS[1], key)
      redis.call('HDEL', KEYS[2], key)
    end
  end
  while redis.call('ZCARD', KEYS[1]) >= max do
    local oldest = redis.call('ZPOPMIN', KEYS[1])
    redis.call('HDEL', KEYS[2], oldest[1])
  end
  redis.call('ZADD', KEYS[1], at(tonumber(ARGV[i + 1])), ARGV[i])
  redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
return 0
