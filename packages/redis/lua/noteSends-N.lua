--[[
  Notes what receivers answered a batch's sends, so a retried step recalls the answer instead of posting again:
  a sent message in its user's send history (what frequency caps count), a refused one under its own key. All keys
  share the hash tag of the users' due shard.

  Users share hashes (buckets); a user's field holds its sends, 12 bytes each: the send's epoch ms (6 bytes,
  big-endian) and a digest of the message id (6 bytes). A message noted twice (a retried send) stays one send, at
  the time it was first noted. A bucket's users whose sends all aged out are swept at most once per `sweepEvery`;
  the sweep also re-arms the bucket's expiry (keep + sweepEvery), so a bucket outlives its newest send by `keep`.

  KEYS[i]   member i's key: its user's bucket (hash) for a send, the message's refused key for a refusal

  ARGV[1]   how long the history keeps a send, ms
  ARGV[2]   how often a bucket is swept, ms
  ARGV[3]   how long a refusal is kept, ms
  then per member i, four arguments from ARGV[4i]:
    "s" (sent): the user's field (8 bytes), the message's digest (6 bytes), when it was sent (epoch ms)
    "r" (refused): the reason, "", ""

  Returns one integer per member: 1 noted now, 0 noted before (a sent message already in the history; a refusal is
  always written); or -1 bad arguments (nothing written).
]]
--- @include "toInteger"
local keep = toInteger(ARGV[1], 1)
local sweepEvery = toInteger(ARGV[2], 1)
local refusedKept = toInteger(ARGV[3], 1)
if keep == nil or sweepEvery == nil or refusedKept == nil or #ARGV ~= 3 + 4 * #KEYS then
  return -1
end
for index = 1, #KEYS do
  local kind, first, second, at = ARGV[4 * index], ARGV[4 * index + 1], ARGV[4 * index + 2], ARGV[4 * index + 3]
  if kind == "s" then
    if #first ~= 8 or #second ~= 6 or toInteger(at, 0) == nil then
      return -1
    end
  elseif kind ~= "r" or first == "" then
    return -1
  end
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

-- The sends of `value` still kept after `oldest`, and whether `digest` is among them.
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

-- Schedules the bucket's next sweep and re-arms its expiry; a bucket that had one is swept first.
local function sweep(bucket, field, oldest, at, isNew)
  local all = isNew and {} or redis.call("HGETALL", bucket)
  for index = 1, #all, 2 do
    local other = all[index]
    if other ~= field and other ~= SWEEP_FIELD then
      local left = kept(all[index + 1], oldest, nil)
      if left == "" then
        redis.call("HDEL", bucket, other)
      elseif left ~= all[index + 1] then
        redis.call("HSET", bucket, other, left)
      end
    end
  end
  redis.call("HSET", bucket, SWEEP_FIELD, at + sweepEvery)
  redis.call("PEXPIRE", bucket, keep + sweepEvery)
end

local replies = {}
for index = 1, #KEYS do
  local key, kind = KEYS[index], ARGV[4 * index]
  if kind == "r" then
    redis.call("SET", key, ARGV[4 * index + 1], "PX", refusedKept)
    replies[index] = 1
  else
    local field, digest, at = ARGV[4 * index + 1], ARGV[4 * index + 2], tonumber(ARGV[4 * index + 3])
    local oldest = at - keep
    local stored = redis.call("HMGET", key, field, SWEEP_FIELD)
    local current = stored[1] or ""
    local value, found = kept(current, oldest, digest)
    if not found then
      value = value .. pack48(at) .. digest
    end
    if value ~= current then
      redis.call("HSET", key, field, value)
    end
    -- A new bucket, or one due for its sweep: users who get no more messages are forgotten, the expiry re-armed.
    local nextSweep = tonumber(stored[2] or "")
    if nextSweep == nil or at >= nextSweep then
      sweep(key, field, oldest, at, nextSweep == nil)
    end
    replies[index] = found and 0 or 1
  end
end
return replies
