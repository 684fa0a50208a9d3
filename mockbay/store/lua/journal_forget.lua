-- Prepended to the scripts that drop journal entries. KEYS as in journal_record.lua; `prefix`
-- (`NAMESPACE:journal:text:`) + an id names the string that holds an entry's JSON held apart.
-- `forget` drops one entry and its indexes; it returns the bytes still held.
local function forget(keys, prefix, id)
  local size
  if redis.call('SREM', keys[7], id) == 1 then
    size = redis.call('STRLEN', prefix .. id)
    redis.call('DEL', prefix .. id)
  else
    size = redis.call('HSTRLEN', keys[1], id)
  end
  redis.call('HDEL', keys[1], id)
  redis.call('ZREM', keys[2], id)
  redis.call('ZREM', keys[4], id)
  redis.call('ZREM', keys[6], id)
  return redis.call('DECRBY', keys[3], size)
end
