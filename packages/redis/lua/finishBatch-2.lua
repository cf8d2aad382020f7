--[[
  Finishes a batch: deletes its set and unregisters it, so the recovery sweep forgets it.
  Idempotent: finishing twice is harmless.

  KEYS[1]   the batch set
  KEYS[2]   the shard's unfinished batches (sorted set)

  Returns 1 when the batch was registered, 0 when it was already finished (or never carved).
]]
redis.call("DEL", KEYS[1])
return redis.call("ZREM", KEYS[2], KEYS[1])
