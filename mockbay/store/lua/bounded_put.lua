-- Keep an object as it is now (a new one last in order, a known one where it was); then the
-- oldest others go while more than ARGV[3] objects or ARGV[4] bytes of them are held: the held
-- message threads and the cache-diagnostics fingerprints.
-- KEYS[1] objects (hash: id -> text), KEYS[2] their ids, oldest first, KEYS[3] the bytes held
-- ARGV[1] id, ARGV[2] the object's text
local old = redis.call('HSTRLEN', KEYS[1], ARGV[1])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then redis.call('RPUSH', KEYS[2], ARGV[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local held = redis.call('INCRBY', KEYS[3], string.len(ARGV[2]) - old)
local count = redis.call('LLEN', KEYS[2])
while count > 1 and (count > tonumber(ARGV[3]) or held > tonumber(ARGV[4])) do
  local oldest = redis.call('LINDEX', KEYS[2], 0)
  if oldest == ARGV[1] then break end
  redis.call('LPOP', KEYS[2])
  held = redis.call('DECRBY', KEYS[3], redis.call('HSTRLEN', KEYS[1], oldest))
  redis.call('HDEL', KEYS[1], oldest)
  count = count - 1
end
return 0
