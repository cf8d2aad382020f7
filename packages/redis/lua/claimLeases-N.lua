--[[
  Takes, renews or gives up leases in one go: keys naming their holder that lapse unless the holder renews them in
  time. A holder that dies leaves its leases to lapse; one that stops gives them up. All the leases share one hash tag.

  KEYS[1]      a lease key
  KEYS[2..n]   more lease keys (same hash tag; a variable count, so the file says -N)

  ARGV[1]      the holder's id (non-empty)
  ARGV[2]      how long a taken or renewed lease lasts from now, ms (>= 1)
  ARGV[2+i]    "1": take KEYS[i], or renew it when the holder has it; "0": give it up when the holder has it

  Returns an array of n integers: 1 where the holder holds the lease now, 0 where it does not (another holder has it,
  or it was given up); or -1 for bad arguments (nothing written).
]]
local rcall = redis.call

--- @include "toInteger"

local holder = ARGV[1]
local ms = toInteger(ARGV[2], 1)
if holder == nil or holder == "" or ms == nil or #ARGV ~= #KEYS + 2 then
  return -1
end
for i = 1, #KEYS do
  if ARGV[2 + i] ~= "1" and ARGV[2 + i] ~= "0" then
    return -1
  end
end

local held = {}
for i = 1, #KEYS do
  local current = rcall("GET", KEYS[i])
  held[i] = 0
  if ARGV[2 + i] == "1" then
    if current == holder then
      rcall("PEXPIRE", KEYS[i], ms)
      held[i] = 1
    elseif current == false then
      rcall("SET", KEYS[i], holder, "PX", ms)
      held[i] = 1
    end
  elseif current == holder then
    rcall("DEL", KEYS[i])
  end
end
return held
