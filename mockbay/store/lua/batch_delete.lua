-- Forget one batch. KEYS and ARGV[1] as in batch_forget.lua; ARGV[2] the id.
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then return 0 end
redis.call('LREM', KEYS[2], 1, ARGV[2])
forget(KEYS, ARGV[1], ARGV[2])
return 1
