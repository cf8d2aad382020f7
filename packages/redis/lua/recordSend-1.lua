--[[
  Notes one sent message in a user's send history and forgets what is older than the history keeps.
  A message noted twice (a retried send) stays one member, at the time it was first noted.

  KEYS[1]   the user's send history (sorted set)
  ARGV[1]   member: the message's id (or a digest of it)
  ARGV[2]   when it was sent, epoch ms
  ARGV[3]   how long the history keeps a send, ms

  Returns 1 noted now, 0 noted before, -1 bad arguments.
]]
--- @include "toInteger"
local at = toInteger(ARGV[2], 0)
local keep = toInteger(ARGV[3], 1)
if ARGV[1] == nil or ARGV[1] == "" or at == nil or keep == nil then
  return -1
end
local added = redis.call("ZADD", KEYS[1], "NX", at, ARGV[1])
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", "(" .. (at - keep))
-- Each note re-arms the expiry: the key outlives its newest member by `keep`, and a user who stops receiving
-- messages costs nothing once that passed.
redis.call("PEXPIRE", KEYS[1], keep)
return added
