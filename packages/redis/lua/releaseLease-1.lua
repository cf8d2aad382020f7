--[[
  Releases a lease, only for its holder (a lease that lapsed and was taken by another stays theirs).

  KEYS[1]   the lease key

  ARGV[1]   the holder's id

  Returns 1 when it was released, 0 when the caller did not hold it.
]]
if redis.call("GET", KEYS[1]) == ARGV[1] then
  redis.call("DEL", KEYS[1])
  return 1
end
return 0
