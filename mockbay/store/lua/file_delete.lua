-- Forget one uploaded file. KEYS as in file_put.lua; ARGV[1] the id.
local size = redis.call('HGET', KEYS[3], ARGV[1])
if not size then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('LREM', KEYS[2], 1, ARGV[1])
redis.call('DECRBY', KEYS[4], size)
return 1
