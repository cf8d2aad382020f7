--[[
  The branch lock of one user entry, a compare-and-set on its token: the member of a step carries the
  token it expects (the one its previous step owned) and its own token. Racing branches expect the
  same token, so exactly one of them takes the lock.

  KEYS[1]   the lock key of (journey, user, entry)

  ARGV[1]   expected token; "" = the entry's first step: the key must be absent
  ARGV[2]   own token (non-empty, different from the expected one)
  ARGV[3]   time to live in ms (>= 1): longer than the longest wait of the journey

  Returns
    {2, own}        RESUME    the value is already our token: a retry; resume idempotently (TTL re-armed)
    {1, own}        ACQUIRED  the value was the expected token (or absent when expected is ""); now ours
    {0, current}    LOST      another branch owns the entry (current = its token)
    {0}             LOST      the key is absent although a token was expected (expired or never taken)
  or -1             bad arguments (nothing written)
]]
local rcall = redis.call

--- @include "toInteger"

local expected = ARGV[1]
local own = ARGV[2]
local ttl = toInteger(ARGV[3], 1)
if ttl == nil or own == nil or own == "" or own == expected then
  return -1
end

local current = rcall("GET", KEYS[1])
if current == own then
  rcall("PEXPIRE", KEYS[1], ttl)
  return {2, own}
end
if (current == false and expected == "") or (current ~= false and current == expected) then
  rcall("SET", KEYS[1], own, "PX", ttl)
  return {1, own}
end
if current == false then
  return {0}
end
return {0, current}
