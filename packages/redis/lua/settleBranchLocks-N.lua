--[[
  Settles the branch locks of members past their send, each only if it still holds the member's token (checked
  here, not by the caller); the try's lease ends with it. All keys share the hash tag of the members' due shard.
  - extend: the entry goes on: the bare token, with a TTL that outlasts its next wait;
  - release: the entry ended (its final state committed): the key goes, so Redis holds locks of live entries only.
  One command per member when it holds the lock (SET ... GET, GETDEL); a value that was not the member's (an
  exit's seal written since) is put back, with `restoreTtl`.

  KEYS[i]   the lock key of member i

  ARGV[1]       restoreTtl: the TTL in ms (>= 1) a value put back gets
  ARGV[3i - 1]  member i's operation: "x" extend, "r" release
  ARGV[3i]      member i's own token
  ARGV[3i + 1]  member i's new TTL in ms (>= 1; unused by "r")

  Returns one integer per member: 1 done, 0 not held by this token (nothing changed); or -1 bad arguments.
]]
local rcall = redis.call

--- @include "toInteger"
--- @include "lockValue"

local restoreTtl = toInteger(ARGV[1], 1)
if restoreTtl == nil or #ARGV ~= 1 + 3 * #KEYS then
  return -1
end
for index = 1, #KEYS do
  local operation, own, ttl = ARGV[3 * index - 1], ARGV[3 * index], toInteger(ARGV[3 * index + 1], 1)
  if (operation ~= "x" and operation ~= "r") or own == "" or ttl == nil then
    return -1
  end
end

local replies = {}
for index = 1, #KEYS do
  local key, operation, own = KEYS[index], ARGV[3 * index - 1], ARGV[3 * index]
  local previous
  if operation == "x" then
    previous = rcall("SET", key, own, "PX", tonumber(ARGV[3 * index + 1]), "GET")
  else
    previous = rcall("GETDEL", key)
  end
  if parseLock(previous) == own then
    replies[index] = 1
  else
    if previous == false then
      rcall("DEL", key)
    else
      rcall("SET", key, previous, "PX", restoreTtl)
    end
    replies[index] = 0
  end
end
return replies
