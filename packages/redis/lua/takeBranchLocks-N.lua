--[[
  The branch locks of a batch's members, each a compare-and-set on its token: the member of a step carries the
  token it expects (the one its previous step owned) and its own token. Racing branches expect the same token, so
  exactly one of them takes the lock. All keys share the hash tag of the members' due shard.

  A lock also holds the lease of the try that took or resumed it: "<token> <lease until, epoch ms> <try id>".
  While the lease runs, another try of the same item (a duplicate item, or a batch run twice at once) finds the
  lock BUSY and does nothing: only one try at a time may post the item's message. A try that died leaves its
  lease to lapse; settling the lock (the try is past its send) writes the bare token again.

  KEYS[i]   the lock key of member i (journey, user, entry)

  ARGV[1]   time to live in ms (>= 1): longer than the longest wait of the journey
  ARGV[2]   now, epoch ms
  ARGV[3]   lease in ms (>= 1)
  ARGV[4]   this try's id (no spaces)
  ARGV[3 + 2i]  member i's expected token; "" = the entry's first step: the key must be absent
  ARGV[4 + 2i]  member i's own token (non-empty, different from the expected one)

  Returns one reply per member, in order:
    {2, own}            RESUME    the value is already our token: a retry; resume idempotently (TTL re-armed)
    {1, own}            ACQUIRED  the value was the expected token (or absent when expected is ""); now ours
    {3, own, until}     BUSY      our token, leased by another try until `until` (epoch ms): leave it to that try
    {0, current}        LOST      another branch owns the entry (current = its token)
    {0}                 LOST      the key is absent although a token was expected (expired or never taken)
  or -1 bad arguments (nothing written).
]]
local rcall = redis.call

--- @include "toInteger"
--- @include "lockValue"

local ttl = toInteger(ARGV[1], 1)
local now = toInteger(ARGV[2], 0)
local lease = toInteger(ARGV[3], 1)
local try = ARGV[4]
if ttl == nil or now == nil or lease == nil or try == nil or try == "" or string.find(try, " ", 1, true) or #ARGV ~= 4 + 2 * #KEYS then
  return -1
end
for index = 1, #KEYS do
  local expected, own = ARGV[3 + 2 * index], ARGV[4 + 2 * index]
  if own == "" or own == expected then
    return -1
  end
end

local leased = " " .. (now + lease) .. " " .. try
local replies = {}
for index = 1, #KEYS do
  local key, expected, own = KEYS[index], ARGV[3 + 2 * index], ARGV[4 + 2 * index]
  local current, leaseUntil, holder = parseLock(rcall("GET", key))
  if current == own then
    if leaseUntil ~= nil and leaseUntil > now and holder ~= try then
      replies[index] = {3, own, tostring(leaseUntil)}
    else
      rcall("SET", key, own .. leased, "PX", ttl)
      replies[index] = {2, own}
    end
  elseif (current == false and expected == "") or (current ~= false and current == expected) then
    rcall("SET", key, own .. leased, "PX", ttl)
    replies[index] = {1, own}
  elseif current == false then
    replies[index] = {0}
  else
    replies[index] = {0, current}
  end
end
return replies
