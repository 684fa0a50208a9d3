-- Forget the whole journal (a clear, a reset). KEYS as in journal_record.lua; ARGV[1] the prefix
-- of the entries' JSON held apart (`NAMESPACE:journal:text:`).
for _, id in ipairs(redis.call('SMEMBERS', KEYS[7])) do redis.call('DEL', ARGV[1] .. id) end
redis.call('DEL', unpack(KEYS))
return 0
