--[[
  Releases the branch lock of an entry that ended; only its holder can (a compare-and-delete), so a seal
  written by an exit since, or a lock another branch took over, stays.

  KEYS[1]   the lock key
  ARGV[1]   own token

  Returns 1 released, 0 not held by this token (nothing deleted), -1 bad arguments.
]]
--- @include "lockValue"

if ARGV[1] == nil or ARGV[1] == "" then
  return -1
end
if parseLock(redis.call("GET", KEYS[1])) ~= ARGV[1] then
  return 0
end
redis.call("DEL", KEYS[1])
return 1
