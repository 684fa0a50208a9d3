-- Extend a lock only if this holder still has it. KEYS[1] the lock, ARGV[1] the holder's token,
-- ARGV[2] its new lifetime in milliseconds.
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
