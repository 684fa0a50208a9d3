-- An exchange begins: its number (unique across every replica and worker on this namespace),
-- and the version of the admin-loaded scenarios, so a replica that is behind catches up first.
-- KEYS[1] the sequence counter, KEYS[2] the scenarios' version counter
return {redis.call('INCR', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0')}
