-- Keep one admin-loaded scenario text for every replica, unless that would hold more than
-- ARGV[2] texts or ARGV[3] bytes in all (then 0, and nothing is kept).
-- KEYS[1] the texts (list, in load order), KEYS[2] their version counter, KEYS[3] their bytes
-- ARGV[1] the YAML text. Returns the new version.
-- A new counter starts from Redis's clock, not 1: after a Redis that restarted empty, a replica
-- still holding the old list's version must not take a new list for the one it has.
local size = string.len(ARGV[1])
local held = tonumber(redis.call('GET', KEYS[3]) or '0')
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[2]) or held + size > tonumber(ARGV[3]) then
  return 0
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[2], t[1] .. string.format('%06d', t[2]))
end
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('INCRBY', KEYS[3], size)
return redis.call('INCR', KEYS[2])
