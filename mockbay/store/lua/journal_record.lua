-- Keep finished exchanges in the shared journal; the lowest-numbered go first beyond ARGV[1]
-- exchanges or ARGV[2] bytes of JSON (the newest always stays), the in-memory journal's two caps.
-- KEYS[1] exchanges (hash: request id -> JSON, so a lookup by id is one HGET and eviction drops
-- the entry and its index together), KEYS[2] their ids by sequence number (zset, so the
-- inspector's `?after=N` reads only the newer ones), KEYS[3] the bytes held, KEYS[4] their ids
-- by the order they were recorded in (zset: exchanges finish out of order, see
-- journal_since.lua), KEYS[5] the count of exchanges recorded, which numbers that order, KEYS[6]
-- the ids of the unmatched ones by sequence number (zset, so `GET /_mockbay/unmatched` reads
-- only those), KEYS[7] the ids of those whose JSON is held apart (set).
-- An entry's JSON larger than a call may carry was written beforehand, in steps, to a string of
-- its own (ARGV[3] .. its id) with a lifetime; its field in KEYS[1] is then '' and the string
-- is kept for good, counted at its length. Its steps lapsed (a replica that stalled midway):
-- it is not kept.
-- ARGV[4..] (request id, the exchange's JSON or '' when held apart, its sequence number, 1 when
-- it is unmatched, the JSON's length) for each exchange. An id kept already (the client's one
-- retry of a call whose answer was lost) is not counted twice.
-- Returns how many entries held apart had lapsed.
local held, lapsed = tonumber(redis.call('GET', KEYS[3]) or '0'), 0
for i = 4, #ARGV, 5 do
  local id, text, size = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 4])
  local apart = ARGV[3] .. id
  if redis.call('HEXISTS', KEYS[1], id) == 1 then
    -- recorded already
  elseif text == '' and redis.call('STRLEN', apart) ~= size then
    redis.call('DEL', apart)
    lapsed = lapsed + 1
  else
    if text == '' then
      redis.call('PERSIST', apart)
      redis.call('SADD', KEYS[7], id)
    end
    redis.call('HSET', KEYS[1], id, text)
    redis.call('ZADD', KEYS[2], ARGV[i + 2], id)
    redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[5]), id)
    if ARGV[i + 3] == '1' then
      redis.call('ZADD', KEYS[6], ARGV[i + 2], id)
    end
    held = redis.call('INCRBY', KEYS[3], size)
  end
end
local count = redis.call('ZCARD', KEYS[2])
while count > tonumber(ARGV[1]) or (held > tonumber(ARGV[2]) and count > 1) do
  held = forget(KEYS, ARGV[3], redis.call('ZRANGE', KEYS[2], 0, 0)[1])
  count = count - 1
end
return lapsed
