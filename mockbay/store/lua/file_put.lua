-- Keep one uploaded file, unless that would hold more than ARGV[4] files or ARGV[5] bytes (then 0
-- and nothing kept: upstream's storage quota; a client's file is never evicted).
-- KEYS[1] metadata (hash: id -> JSON), KEYS[2] their ids, oldest first, KEYS[3] contents (hash:
-- id -> the bytes as uploaded, apart so that listing and retrieving never read them), KEYS[4]
-- the bytes held. ARGV[1] id, ARGV[2] metadata, ARGV[3] content
local held = tonumber(redis.call('GET', KEYS[4]) or '0')
local size = string.len(ARGV[3])
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[4]) or held + size > tonumber(ARGV[5]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('INCRBY', KEYS[4], size)
return 1
