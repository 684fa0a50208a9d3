-- Keep a batch's summary. A new one (ARGV[4] 'new') goes last in order and its requests, which
-- batch_stage.lua wrote beforehand, are kept for good; a known one has ARGV[8..], the JSONL lines
-- of the requests it has run since it was last kept, appended to its results. Then the oldest
-- others go while more than ARGV[6] batches or ARGV[7] bytes are held. Only a create keeps a
-- batch not held: one deleted or evicted meanwhile stays gone (then 0, else 1).
-- KEYS and ARGV[1] as in batch_forget.lua; ARGV[2] id, ARGV[3] the summary, ARGV[5] its bytes.
local id = ARGV[2]
if redis.call('HEXISTS', KEYS[1], id) == 0 then
  if ARGV[4] ~= 'new' then return 0 end
  redis.call('RPUSH', KEYS[2], id)
  redis.call('PERSIST', ARGV[1] .. 'requests:' .. id)
end
for i = 8, #ARGV, 1000 do  -- in steps: Lua's unpack takes some thousands of values at most
  redis.call('RPUSH', ARGV[1] .. 'results:' .. id, unpack(ARGV, i, math.min(i + 999, #ARGV)))
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
