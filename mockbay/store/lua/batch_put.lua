-- Keep a batch's summary and append lines to one of its lists: a create its requests (a new
-- batch goes last in order), a run or a cancel the results of the requests it counted done.
-- Then the oldest others go while more than ARGV[6] batches or ARGV[7] bytes are held. Only a
-- create keeps a batch not held: one deleted or evicted meanwhile stays gone (then 0, else 1).
-- KEYS and ARGV[1] as in batch_forget.lua; ARGV[2] id, ARGV[3] the summary, ARGV[4] the list
-- ('requests' or 'results'), ARGV[5] the batch's bytes, ARGV[8..] the lines.
local id, list = ARGV[2], ARGV[4]
if redis.call('HEXISTS', KEYS[1], id) == 0 then
  if list ~= 'requests' then return 0 end
  redis.call('RPUSH', KEYS[2], id)
end
for i = 8, #ARGV, 1000 do  -- in steps: Lua's unpack takes some thousands of values at most
  redis.call('RPUSH', ARGV[1] .. list .. ':' .. id, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
redis.call('HSET', KEYS[1], id, ARGV[3])
local old = tonumber(redis.call('HGET', KEYS[4], id) or '0')
redis.call('HSET', KEYS[4], id, ARGV[5])
local held = redis.call('INCRBY', KEYS[3], tonumber(ARGV[5]) - old)
local count = redis.call('LLEN', KEYS[2])
while count > 1 and (count > tonumber(ARGV[6]) or held > tonumber(ARGV[7])) do
  local oldest = redis.call('LINDEX', KEYS[2], 0)
  if oldest == id then break end
  redis.call('LPOP', KEYS[2])
  held = forget(KEYS, ARGV[1], oldest)
  count = count - 1
end
return 1
