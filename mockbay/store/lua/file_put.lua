-- Keep one uploaded file, whose bytes were written beforehand, in steps of a call each, to a
-- string of its own with a lifetime (so an upload that never finished leaves nothing for long),
-- unless that would hold more than ARGV[3] files or ARGV[4] bytes (then 0, and its bytes go:
-- upstream's storage quota; a client's file is never evicted), or its bytes are not all there
-- (then -1: they lapsed).
-- KEYS[1] metadata (hash: id -> JSON), KEYS[2] their ids, oldest first, KEYS[3] the bytes held,
-- KEYS[4] the file's bytes as uploaded (`NAMESPACE:files:data:ID`, apart so that listing and
-- retrieving never read them, and a string, so a download reads it in steps too).
-- ARGV[1] id, ARGV[2] metadata, ARGV[5] the file's size.
local size = tonumber(ARGV[5])
if redis.call('STRLEN', KEYS[4]) ~= size then
  redis.call('DEL', KEYS[4])
  return -1
end
local held = tonumber(redis.call('GET', KEYS[3]) or '0')
if redis.call('LLEN', KEYS[2]) >= tonumber(ARGV[3]) or held + size > tonumber(ARGV[4]) then
  redis.call('DEL', KEYS[4])
  return 0
end
redis.call('PERSIST', KEYS[4])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('INCRBY', KEYS[3], size)
return 1
