-- Prepended to the scripts that list journal entries, so that no call carries more than about a
-- step whatever the journal holds. KEYS as in journal_record.lua; `prefix` as in
-- journal_forget.lua. `within` gives, for `ids` in order, {the JSON of the first entries while it
-- comes to `budget` bytes at most, {id, length, 1 when held apart else 0} of each entry after
-- those}: the caller reads the rest a step a call.
local function within(keys, prefix, ids, budget)
  local texts, rest, total = {}, {}, 0
  for _, id in ipairs(ids) do
    local apart = redis.call('SISMEMBER', keys[7], id)
    local size = redis.call('HSTRLEN', keys[1], id)
    if apart == 1 then size = redis.call('STRLEN', prefix .. id) end
    if #rest == 0 and apart == 0 and total + size <= budget then
      texts[#texts + 1] = redis.call('HGET', keys[1], id)
      total = total + size
    else
      rest[#rest + 1] = id
      rest[#rest + 1] = size
      rest[#rest + 1] = apart
    end
  end
  return {texts, rest}
end
