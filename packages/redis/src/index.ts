export {
  checkRedis,
  connectRedis,
  createRedis,
  describeRedisTarget,
  duplicateRedis,
  pingRedis,
  redisServerVersion,
  type ConnectionOptions,
  type RedisClient,
  type RedisHealth,
  type RedisRole,
} from './connection.js';
export { isRedisUnavailableError } from './unavailable.js';

export {
  createKeys,
  fnv1a32,
  queueTag,
  DEFAULT_DUE_SHARDS,
  DEFAULT_EVENT_PARTITIONS,
  DEFAULT_QUEUE_GROUPS,
  PREFIX_PATTERN,
} from './keys.js';
export type { BatchRef, DueBranch, DueSetRef, Keys, KeysOptions } from './keys.js';
export { crc16, hashTagOf, keySlot } from './key-slot.js';
export { deleteMatching, scanKeys, unlinkKeys } from './scan.js';
export { KEY_ID_PATTERN, KeyIdSchema, MEMBER_SEPARATOR, STREAM_ID_PATTERN, TOKEN_PATTERN, TokenSchema, UserIdSchema } from './ids.js';
export { decodeDueMember, encodeDueMember, MEMBER_BUDGET_BYTES } from './members.js';
export type { DueMember } from './members.js';

export {
  BadScriptArgumentsError,
  BatchExistsError,
  CrossSlotError,
  errorFromScriptCode,
  InvalidInputError,
  LockNotHeldError,
  RedisStoreError,
  SCRIPT_CODES,
  UnexpectedReplyError,
} from './errors.js';
export type { RedisStoreErrorCode, ScriptCodeName } from './errors.js';
export { loadScript, runScript, SCRIPT_FILES } from './scripts.js';
export type { LoadedScript, ScriptName } from './scripts.js';

export { createEventsStream, DEFAULT_DEDUP_WINDOW_SECONDS } from './events-stream.js';
export type { AcceptInput, AcceptResult, EventsStream, StreamEntry } from './events-stream.js';
export { createDueSchedule, MAX_BATCH_SIZE } from './due-schedule.js';
export type { CarvedBatch, DueSchedule, DueSetEntry, ShardBacklog, StaleBatch } from './due-schedule.js';
export { createBranchLock, LOCK_OUTCOMES } from './branch-lock.js';
export type { BranchLock, BranchLockTarget, LockClaim, LockLease, LockSettlement, TakeLockResult } from './branch-lock.js';
export { createStats, STAT_COUNTERS, STATS_BUCKETS } from './stats.js';
export type { Counters, JourneyStats, Stats, StatCounter, StatIncrement, StatsBucket, StatsInterval, StepStats } from './stats.js';
export { createDrainQueue, DrainJobSchema, type DrainJob, type DrainQueue } from './drain-queue.js';
export {
  countJobs,
  createDispatchQueue,
  DISPATCH_JOB_OPTIONS,
  DispatchJobSchema,
  type BatchJobState,
  type DispatchJob,
  type DispatchQueue,
} from './dispatch-queue.js';
export {
  createScheduleQueue,
  RECURRING_RUN_KEPT_MS,
  ScheduleRunJobSchema,
  type ScheduleQueue,
  type ScheduleQueueOptions,
  type ScheduleRunOptions,
  type ScheduleRunJob,
} from './schedule-queue.js';
export { ACTIVITY_COUNTERS, createOpsActivity, FAILURES_KEPT, OpsFailureSchema } from './ops-activity.js';
export type { ActivityCounter, ActivityCounts, ActivityWindow, OpsActivity, OpsFailure } from './ops-activity.js';
export { createSendHistory } from './send-history.js';
export type { NotedAnswer, SendHistory } from './send-history.js';
export { createDeadLetters } from './dead-letters.js';
export type { DeadLetter, DeadLetters, DeadLettersOptions, FailureOutcome } from './dead-letters.js';
export { createJourneysRevision } from './journeys-revision.js';
export { createLeases, type Leases } from './leases.js';
export type { JourneysRevision } from './journeys-revision.js';
