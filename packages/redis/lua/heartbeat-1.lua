--[[
  Notes a member alive in a liveness set (or its leaving) and answers who is alive. Times are Redis's own clock, so
  the members' clocks do not matter.

  KEYS[1]   the set: a sorted set of member -> alive until (epoch ms)

  ARGV[1]   the member's id (non-empty)
  ARGV[2]   how long it counts as alive from now, ms (>= 1); 0: it leaves

  Returns the members alive now (this one included unless it left), sorted, or -1 for bad arguments.
]]
local rcall = redis.call

--- @include "toInteger"

local member = ARGV[1]
local ms = toInteger(ARGV[2], 0)
if member == nil or member == "" or ms == nil then
  return -1
end

local time = rcall("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if ms == 0 then
  rcall("ZREM", KEYS[1], member)
else
  rcall("ZADD", KEYS[1], now + ms, member)
end
rcall("ZREMRANGEBYSCORE", KEYS[1], "-inf", now)
-- The set goes when its last member's time is up: a fleet that stopped leaves nothing behind.
local last = rcall("ZRANGE", KEYS[1], -1, -1, "WITHSCORES")
if last[2] ~= nil then
  rcall("PEXPIREAT", KEYS[1], last[2])
end
return rcall("ZRANGE", KEYS[1], 0, -1)
