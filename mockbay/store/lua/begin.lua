-- Exchanges begin: the last of their ARGV[1] numbers (unique across every replica and worker on
-- this namespace), and the version of the admin-loaded scenarios, so a replica that is behind
-- catches up first. KEYS[1] the sequence counter, KEYS[2] the scenarios' version counter
return {redis.call('INCRBY', KEYS[1], ARGV[1]), tonumber(redis.call('GET', KEYS[2]) or '0')}
