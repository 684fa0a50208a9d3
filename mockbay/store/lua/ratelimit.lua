-- The token buckets of one rate-limit key, refilled and charged atomically: the same rules and
-- arithmetic as mockbay/usage/ratelimit.py (refill at capacity/60 per second, 1e-9 slack, a
-- changed limit starts a full bucket), on Redis's clock so every replica agrees.
-- KEYS[1] buckets (hash: field -> 9 packed doubles: capacity, level, updated per dimension)
-- KEYS[2] their recency (zset: field -> microseconds)
-- ARGV[1] field, ARGV[2] at most this many keys, ARGV[3..5] limits of requests, input and
-- output tokens (0: none), ARGV[6] 'admit' or 'settle', ARGV[7] input tokens to admit or
-- output tokens to settle.
-- Returns 7 packed doubles: now, then capacity and level of each dimension before the charge.
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local b = {}
if raw then
  local v = {struct.unpack('<ddddddddd', raw)}
  for i = 0, 2 do b[i + 1] = {v[3 * i + 1], v[3 * i + 2], v[3 * i + 3]} end
else
  for i = 1, 3 do b[i] = {0, 0, 0} end
end
for i = 1, 3 do
  local cap = tonumber(ARGV[2 + i])
  local bucket = b[i]
  if cap == 0 then
    b[i] = {0, 0, 0}
  elseif bucket[1] ~= cap then
    b[i] = {cap, cap, now}
  else
    local elapsed = math.max(0, now - bucket[3])
    bucket[2] = math.min(cap, bucket[2] + elapsed * cap / 60.0)
    bucket[3] = now
  end
end
local before = struct.pack('<ddddddd', now, b[1][1], b[1][2], b[2][1], b[2][2], b[3][1], b[3][2])
local amount = tonumber(ARGV[7])
if ARGV[6] == 'admit' then
  local needs = {1, amount, 1}
  local short = false
  for i = 1, 3 do
    if b[i][1] > 0 and b[i][2] + 1e-9 < math.min(needs[i], b[i][1]) then short = true end
  end
  if not short then
    for i = 1, 2 do
      if b[i][1] > 0 then b[i][2] = b[i][2] - needs[i] end
    end
  end
elseif b[3][1] > 0 then
  b[3][2] = b[3][2] - amount
end
redis.call('HSET', KEYS[1], ARGV[1], struct.pack('<ddddddddd',
  b[1][1], b[1][2], b[1][3], b[2][1], b[2][2], b[2][3], b[3][1], b[3][2], b[3][3]))
touch(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[2]))
return before
