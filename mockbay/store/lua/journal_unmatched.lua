-- The unmatched journal entries by sequence number, as `within` in journal_texts.lua gives them.
-- KEYS as in journal_record.lua; ARGV[1] the prefix of entries held apart, ARGV[2] the budget.
return within(KEYS, ARGV[1], redis.call('ZRANGE', KEYS[6], 0, -1), tonumber(ARGV[2]))
