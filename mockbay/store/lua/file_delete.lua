-- Forget one uploaded file. KEYS as in file_put.lua; ARGV[1] the id.
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('DECRBY', KEYS[3], redis.call('STRLEN', KEYS[4]))
redis.call('DEL', KEYS[4])
redis.call('LREM', KEYS[2], 1, ARGV[1])
return 1
