-- Forget one batch. KEYS as in batch_put.lua; ARGV[1] the id.
local size = redis.call('HSTRLEN', KEYS[1], ARGV[1])
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('LREM', KEYS[2], 1, ARGV[1])
redis.call('DECRBY', KEYS[3], size)
return 1
