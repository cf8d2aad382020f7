--[[
  The branch lock of one user entry, a compare-and-set on its token: the member of a step carries the
  token it expects (the one its previous step owned) and its own token. Racing branches expect the
  same token, so exactly one of them takes the lock.

  The lock also holds a lease of the try that took or resumed it: "<token> <lease until, epoch ms> <try id>".
  While the lease runs, another try of the same item (a duplicate item, or a batch run twice at once) finds the
  lock BUSY and does nothing: only one try at a time may post the item's message. A try that died leaves its
  lease to lapse; extending the lock (the try is past its send) writes the bare token again.

  KEYS[1]   the lock key of (journey, user, entry)

  ARGV[1]   expected token; "" = the entry's first step: the key must be absent
  ARGV[2]   own token (non-empty, different from the expected one)
  ARGV[3]   time to live in ms (>= 1): longer than the longest wait of the journey
  ARGV[4]   now, epoch ms
  ARGV[5]   lease in ms (>= 1)
  ARGV[6]   this try's id (no spaces)

  Returns
    {2, own}            RESUME    the value is already our token: a retry; resume idempotently (TTL re-armed)
    {1, own}            ACQUIRED  the value was the expected token (or absent when expected is ""); now ours
    {3, own, until}     BUSY      our token, leased by another try until `until` (epoch ms): leave it to that try
    {0, current}        LOST      another branch owns the entry (current = its token)
    {0}                 LOST      the key is absent although a token was expected (expired or never taken)
  or -1                 bad arguments (nothing written)
]]
local rcall = redis.call

--- @include "toInteger"
--- @include "lockValue"

local expected = ARGV[1]
local own = ARGV[2]
local ttl = toInteger(ARGV[3], 1)
local now = toInteger(ARGV[4], 0)
local lease = toInteger(ARGV[5], 1)
local try = ARGV[6]
if ttl == nil or now == nil or lease == nil or own == nil or own == "" or own == expected or try == nil or try == "" or string.find(try, " ", 1, true) then
  return -1
end

local leased = own .. " " .. (now + lease) .. " " .. try
local value = rcall("GET", KEYS[1])
local current, leaseUntil, holder = parseLock(value)
if current == own then
  if leaseUntil ~= nil and leaseUntil > now and holder ~= try then
    return {3, own, tostring(leaseUntil)}
  end
  rcall("SET", KEYS[1], leased, "PX", ttl)
  return {2, own}
end
if (current == false and expected == "") or (current ~= false and current == expected) then
  rcall("SET", KEYS[1], leased, "PX", ttl)
  return {1, own}
end
if current == false then
  return {0}
end
return {0, current}
