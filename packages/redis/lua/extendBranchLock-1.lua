--[[
  Extends the branch lock; only its holder can (ownership is checked here, not by the caller). The try's lease
  ends with it: the try is past its send, and another try of the item may resume.

  KEYS[1]   the lock key
  ARGV[1]   own token
  ARGV[2]   new time to live in ms (>= 1)

  Returns 1 extended, -2 not held by this token (nothing written), -1 bad arguments.
]]
local rcall = redis.call

--- @include "toInteger"
--- @include "lockValue"

local ttl = toInteger(ARGV[2], 1)
if ttl == nil or ARGV[1] == nil or ARGV[1] == "" then
  return -1
end
if parseLock(rcall("GET", KEYS[1])) ~= ARGV[1] then
  return -2
end
rcall("SET", KEYS[1], ARGV[1], "PX", ttl)
return 1
