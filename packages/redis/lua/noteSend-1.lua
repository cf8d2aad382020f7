--[[
  Notes one sent message in its user's send history and forgets what is older than the history keeps.
  Users share a hash (a bucket); a user's field holds its sends, 12 bytes each: the send's epoch ms (6 bytes,
  big-endian) and a digest of the message id (6 bytes). A message noted twice (a retried send) stays one send, at the
  time it was first noted.

  KEYS[1]   the bucket (hash)
  ARGV[1]   the user's field (8 bytes)
  ARGV[2]   the message's digest (6 bytes)
  ARGV[3]   when it was sent, epoch ms
  ARGV[4]   how long the history keeps a send, ms
  ARGV[5]   how often the bucket's other users are swept of sends it no longer keeps, ms

  Returns 1 noted now, 0 noted before, -1 bad arguments.
]]
--- @include "toInteger"
local field, digest = ARGV[1], ARGV[2]
local at = toInteger(ARGV[3], 0)
local keep = toInteger(ARGV[4], 1)
local sweepEvery = toInteger(ARGV[5], 1)
if field == nil or #field ~= 8 or digest == nil or #digest ~= 6 or at == nil or keep == nil or sweepEvery == nil then
  return -1
end
local RECORD = 12
-- A bucket's own bookkeeping: when it is next swept. Shorter than any user's field, so it is never one.
local SWEEP_FIELD = "sweep"

local function pack48(number)
  local bytes = {}
  for index = 6, 1, -1 do
    bytes[index] = number % 256
    number = math.floor(number / 256)
  end
  return string.char(unpack(bytes))
end

local function unpack48(text, offset)
  local number = 0
  for index = offset, offset + 5 do
    number = number * 256 + string.byte(text, index)
  end
  return number
end

-- The sends of `value` still kept at `at`, and whether `digest` is among them.
local function kept(value, oldest, wanted)
  local parts, found = {}, false
  for offset = 1, #value - RECORD + 1, RECORD do
    if unpack48(value, offset) >= oldest then
      local record = string.sub(value, offset, offset + RECORD - 1)
      parts[#parts + 1] = record
      if wanted ~= nil and string.sub(record, 7) == wanted then
        found = true
      end
    end
  end
  return table.concat(parts), found
end

local oldest = at - keep
local current = redis.call("HGET", KEYS[1], field) or ""
local value, found = kept(current, oldest, digest)
if not found then
  value = value .. pack48(at) .. digest
end
if value ~= current then
  redis.call("HSET", KEYS[1], field, value)
end

-- Users who get no more messages are forgotten by a sweep of their bucket, at most once per `sweepEvery`.
local nextSweep = tonumber(redis.call("HGET", KEYS[1], SWEEP_FIELD) or "0") or 0
if at >= nextSweep then
  local all = redis.call("HGETALL", KEYS[1])
  for index = 1, #all, 2 do
    local other = all[index]
    if other ~= field and other ~= SWEEP_FIELD then
      local left = kept(all[index + 1], oldest, nil)
      if left == "" then
        redis.call("HDEL", KEYS[1], other)
      elseif left ~= all[index + 1] then
        redis.call("HSET", KEYS[1], other, left)
      end
    end
  end
  redis.call("HSET", KEYS[1], SWEEP_FIELD, at + sweepEvery)
end

-- Each note re-arms the expiry: the bucket outlives its newest send by `keep`.
redis.call("PEXPIRE", KEYS[1], keep)
if found then
  return 0
end
return 1
