-- Keep a skill's metadata without one version, and drop that version's archive.
-- KEYS[1..3] as in skill_put.lua, KEYS[4] the version's archive; ARGV[1] skill id, ARGV[2] metadata.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('DECRBY', KEYS[3], redis.call('STRLEN', KEYS[4]))
redis.call('DEL', KEYS[4])
return 1
