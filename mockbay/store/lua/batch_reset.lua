-- Forget every batch (a reset). KEYS and ARGV[1] as in batch_forget.lua.
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do forget(KEYS, ARGV[1], id) end
redis.call('DEL', unpack(KEYS))
return 0
