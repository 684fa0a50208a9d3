-- Drop skills with every version's archive: ARGV[2..] (a delete), or all of them when none is
-- named (a reset). KEYS[1..3] as in skill_put.lua; ARGV[1] the prefix of each version's archive
-- (`NAMESPACE:skills:data:`).
local ids = {unpack(ARGV, 2)}
if #ids == 0 then ids = redis.call('LRANGE', KEYS[2], 0, -1) end
for _, id in ipairs(ids) do
  local meta = redis.call('HGET', KEYS[1], id)
  if meta then
    for _, version in ipairs(cjson.decode(meta)['versions']) do
      redis.call('DECRBY', KEYS[3], redis.call('STRLEN', ARGV[1] .. version['id']))
      redis.call('DEL', ARGV[1] .. version['id'])
    end
    redis.call('HDEL', KEYS[1], id)
    redis.call('LREM', KEYS[2], 1, id)
  end
end
return 0
