--[[
  Counts one failed application of an event partition's record; once it failed `limit` times, moves it to the
  partition's dead letters (with its error) so the partition goes on without it.

  KEYS[1]   the partition's failure counts (hash: stream id -> failures)
  KEYS[2]   the partition's dead letters (stream)

  ARGV[1]   the record's stream id
  ARGV[2]   limit: failures after which the record is a dead letter (>= 1)
  ARGV[3]   the record as stored (JSON)
  ARGV[4]   the error of this failure
  ARGV[5]   now, epoch ms
  ARGV[6]   dead letters kept at most (older ones are trimmed)
  ARGV[7]   how long a failure count is kept, ms (a record that never fails again is forgotten)

  Returns the failures so far (>= 1) while under the limit, 0 once the record became a dead letter (its count is
  gone), or -1 bad arguments.
]]
--- @include "toInteger"
local streamId = ARGV[1]
local limit = toInteger(ARGV[2], 1)
local now = toInteger(ARGV[5], 0)
local kept = toInteger(ARGV[6], 1)
local countTtl = toInteger(ARGV[7], 1)
if streamId == nil or streamId == "" or limit == nil or ARGV[3] == nil or ARGV[4] == nil or now == nil or kept == nil or countTtl == nil then
  return -1
end

local failures = redis.call("HINCRBY", KEYS[1], streamId, 1)
redis.call("PEXPIRE", KEYS[1], countTtl)
if failures < limit then
  return failures
end
redis.call("XADD", KEYS[2], "MAXLEN", "~", kept, "*", "streamId", streamId, "record", ARGV[3], "error", ARGV[4], "failures", failures, "at", now)
redis.call("HDEL", KEYS[1], streamId)
return 0
