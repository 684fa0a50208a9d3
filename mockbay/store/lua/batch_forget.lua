-- Prepended to the scripts that drop Message Batches. A batch is kept as
-- KEYS[1] summaries (hash: id -> JSON, what a status read needs), KEYS[2] their ids, oldest
-- first, KEYS[3] the bytes held, KEYS[4] each batch's bytes (hash: id -> its body and results),
-- and two lists of its own under the prefix ARGV[1] (`NAMESPACE:batches:`): `requests:ID`, the
-- requests as JSON in order, and `results:ID`, the JSONL lines of those run so far.
-- `forget` drops all of one batch but its place in KEYS[2]; it returns the bytes still held.
local function forget(keys, prefix, id)
  local held = redis.call('DECRBY', keys[3], tonumber(redis.call('HGET', keys[4], id) or '0'))
  redis.call('HDEL', keys[1], id)
  redis.call('HDEL', keys[4], id)
  redis.call('DEL', prefix .. 'requests:' .. id, prefix .. 'results:' .. id)
  return held
end
