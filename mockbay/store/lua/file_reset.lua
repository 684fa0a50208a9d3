-- Forget every uploaded file (a reset). KEYS[1..3] as in file_put.lua; ARGV[1] the prefix of
-- each file's bytes (`NAMESPACE:files:data:`).
for _, id in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do redis.call('DEL', ARGV[1] .. id) end
redis.call('DEL', unpack(KEYS))
return 0
