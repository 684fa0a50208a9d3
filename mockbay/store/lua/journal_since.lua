-- The journal entries a poll with `?after=N` has not seen, as their JSON, by sequence number:
-- those numbered over N, and before them those numbered N or under that were recorded after the
-- highest-numbered of those (N itself, for a poll that asks with the last number it was given).
-- An exchange finishes, and is recorded, after any number of others that began after it; a poll
-- that saw them would otherwise never list it. A poll given entries up to N was answered after
-- N was recorded, so whatever was recorded after that poll was recorded after N: none is missed.
-- KEYS as in journal_record.lua; ARGV[1] N (-1: the whole journal), ARGV[2] the prefix of entries
-- held apart, ARGV[3] the budget: the entries as `within` in journal_texts.lua gives them.
local after = tonumber(ARGV[1])
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. after, '+inf')
local last = redis.call('ZREVRANGEBYSCORE', KEYS[2], after, '-inf', 'LIMIT', 0, 1)[1]
if last then
  local late = {}
  local since = redis.call('ZSCORE', KEYS[4], last)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. since, '+inf')) do
    local seq = tonumber(redis.call('ZSCORE', KEYS[2], id))
    if seq <= after then late[#late + 1] = {seq, id} end
  end
  table.sort(late, function(a, b) return a[1] < b[1] end)
  for i = #late, 1, -1 do table.insert(ids, 1, late[i][2]) end
end
return within(KEYS, ARGV[2], ids, tonumber(ARGV[3]))
