--[[
  Takes or renews a lease: a key naming its holder that lapses unless the holder renews it in time. A holder that
  dies leaves its lease to lapse; a holder that gives it up releases it (releaseLease-1.lua).

  KEYS[1]   the lease key

  ARGV[1]   the holder's id (non-empty)
  ARGV[2]   how long the lease lasts from now, ms (>= 1)

  Returns 1 when the caller holds the lease now (taken, or renewed: it held it already), 0 when another holder has it,
  or -1 for bad arguments (nothing written).
]]
local rcall = redis.call

--- @include "toInteger"

local holder = ARGV[1]
local ms = toInteger(ARGV[2], 1)
if holder == nil or holder == "" or ms == nil then
  return -1
end

local current = rcall("GET", KEYS[1])
if current == holder then
  rcall("PEXPIRE", KEYS[1], ms)
  return 1
end
if current == false then
  rcall("SET", KEYS[1], holder, "PX", ms)
  return 1
end
return 0
