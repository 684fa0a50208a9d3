-- Which simulated prompt-cache entries are live now: 1 or 0 for each key asked about.
-- KEYS[1] entries' expiry (zset: prefix hash -> epoch seconds); ARGV the prefix hashes.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local scores = redis.call('ZMSCORE', KEYS[1], unpack(ARGV))
local live = {}
for i = 1, #ARGV do
  live[i] = (scores[i] and tonumber(scores[i]) > now) and 1 or 0
end
return live
