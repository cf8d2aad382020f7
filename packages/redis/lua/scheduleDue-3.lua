--[[
  Schedules members (users' next steps) into the due set of one branch and second, and registers the
  set in its shard's due index so schedulers find it without scanning keys.

  KEYS[1]   the due set: {p:due:S}:<journey>:<version>:<step>:<second>
  KEYS[2]   the due index of shard S (sorted set: member = due set key, score = due second)
  KEYS[3]   the waiting counter of shard S (members in its due sets; read by the operators' view)

  ARGV[1]   the due second (epoch seconds, >= 0)
  ARGV[2..] one or more members, "userId|entryId|expectedToken|ownToken"

  Returns the number of members newly added (a member already waiting there is not counted),
  or -1 bad arguments (nothing written).
]]
local rcall = redis.call

--- @include "toInteger"

local dueSecond = toInteger(ARGV[1], 0)
if dueSecond == nil or #ARGV < 2 then
  return -1
end

-- unpack() is bounded by the Lua stack, so an audience is added in slices.
local added = 0
local slice = 1000
for first = 2, #ARGV, slice do
  local last = math.min(first + slice - 1, #ARGV)
  added = added + rcall("SADD", KEYS[1], unpack(ARGV, first, last))
end

rcall("ZADD", KEYS[2], dueSecond, KEYS[1])
if added > 0 then
  rcall("INCRBY", KEYS[3], added)
end
return added
