--[[
  Carves one batch out of a due set: moves up to maxMembers members into a fresh batch set and
  registers the batch as unfinished. Atomic, so any number of schedulers can carve the same due set
  at once and every member is handed out exactly once.

  KEYS[1]   the due set
  KEYS[2]   the due index of its shard
  KEYS[3]   the batch set to create (must not exist yet)
  KEYS[4]   the shard's unfinished batches (sorted set: member = batch key, score = carve time ms)
  KEYS[5]   the shard's waiting counter (members in its due sets), lowered by the members carved

  ARGV[1]   maxMembers (>= 1)
  ARGV[2]   now, epoch milliseconds (the batch's score, read by the recovery sweep)

  Returns the number of members carved; 0 when the due set was empty (then its index entry, if any,
  is dropped too);
  -1 bad arguments, -3 the batch key already exists (nothing written: pick another batch id).

  The due set leaves the index only once it is empty, so a set that still has members stays findable.
]]
local rcall = redis.call

--- @include "toInteger"

local maxMembers = toInteger(ARGV[1], 1)
local now = toInteger(ARGV[2], 0)
if maxMembers == nil or now == nil then
  return -1
end
if rcall("EXISTS", KEYS[3]) == 1 then
  return -3
end

local members = rcall("SPOP", KEYS[1], maxMembers)
if #members > 0 then
  rcall("SADD", KEYS[3], unpack(members))
  rcall("ZADD", KEYS[4], now, KEYS[3])
  -- The counter never goes below zero, whatever it missed.
  if rcall("DECRBY", KEYS[5], #members) < 0 then
    rcall("SET", KEYS[5], 0)
  end
end
if rcall("EXISTS", KEYS[1]) == 0 then
  rcall("ZREM", KEYS[2], KEYS[1])
end
return #members
