-- Append one step of a new batch's requests (ARGV[3..], as JSON) to its list KEYS[1], unless
-- they are there already (the client's one retry of a step whose answer was lost): ARGV[1] is
-- how many the list holds before this step. The list lives ARGV[2] ms more, so the requests of a
-- create whose replica died midway lapse; batch_put.lua keeps them for good.
if redis.call('LLEN', KEYS[1]) == tonumber(ARGV[1]) then
  for i = 3, #ARGV, 1000 do  -- in steps: Lua's unpack takes some thousands of values at most
    redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
