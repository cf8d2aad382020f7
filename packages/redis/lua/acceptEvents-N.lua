--[[
  Accepts a batch of events of ONE partition: de-duplicates client event ids and appends the new
  events to the partition's stream, in argument order.

  KEYS[1]          the partition's event stream
  KEYS[2..]        de-duplication keys, one per distinct client event id of this call
                   (same hash tag as KEYS[1]; a variable count, so the file says -N)

  ARGV[1]          de-duplication window in seconds (>= 1)
  ARGV[2]          n, the number of events (>= 1)
  then per event i (1..n):
  ARGV[1 + 2i]     index of its de-duplication key among KEYS[2..] (1-based), 0 = no client id
  ARGV[2 + 2i]     the event as JSON, stored in the stream entry's field "e"

  Returns an array of n replies, one per event:
    stream id (string)  added
    0                   duplicate: its key exists (added earlier, or earlier in this very call)
  or -1                 bad arguments (nothing written)

  The stream is never trimmed here: an accepted event stays until its drain acknowledges it.
  The de-duplication key is set only after XADD succeeded, so a failed append never leaves a key
  behind that would turn the client's retry into a "duplicate" of an event that was never stored.
]]
local rcall = redis.call

--- @include "toInteger"

local window = toInteger(ARGV[1], 1)
local count = toInteger(ARGV[2], 1)
if window == nil or count == nil or #ARGV ~= 2 + 2 * count then
  return -1
end

local dedupKeyCount = #KEYS - 1
for i = 1, count do
  local index = toInteger(ARGV[1 + 2 * i], 0)
  if index == nil or index > dedupKeyCount then
    return -1
  end
end

local replies = {}
for i = 1, count do
  local index = tonumber(ARGV[1 + 2 * i])
  local dedupKey = index > 0 and KEYS[1 + index] or nil
  if dedupKey ~= nil and rcall("EXISTS", dedupKey) == 1 then
    replies[i] = 0
  else
    local id = rcall("XADD", KEYS[1], "*", "e", ARGV[2 + 2 * i])
    if dedupKey ~= nil then
      -- The value names the stream entry, which helps when tracing a duplicate.
      rcall("SET", dedupKey, id, "EX", window)
    end
    replies[i] = id
  end
end
return replies
