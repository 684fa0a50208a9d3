-- Keep a skill's metadata and one new version's archive, written beforehand in steps to a string
-- with a lifetime (as file_put.lua does), unless a new skill would make more than ARGV[3] skills
-- or the archive more than ARGV[4] bytes in all (then 0, and the archive goes: upstream's storage
-- quota), or the archive is not all there (then -1: it lapsed).
-- KEYS[1] metadata (hash: skill id -> JSON with its versions), KEYS[2] skill ids, oldest first,
-- KEYS[3] the archive bytes held, KEYS[4] the new version's archive (`NAMESPACE:skills:data:VERSION`).
-- ARGV[1] skill id, ARGV[2] metadata, ARGV[5] the archive's size.
local size = tonumber(ARGV[5])
if redis.call('STRLEN', KEYS[4]) ~= size then
  redis.call('DEL', KEYS[4])
  return -1
end
local new = redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0
local held = tonumber(redis.call('GET', KEYS[3]) or '0')
if (new and redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[3])) or held + size > tonumber(ARGV[4]) then
  redis.call('DEL', KEYS[4])
  return 0
end
redis.call('PERSIST', KEYS[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if new then redis.call('RPUSH', KEYS[2], ARGV[1]) end
redis.call('INCRBY', KEYS[3], size)
return 1
