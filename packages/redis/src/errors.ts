/**
 * Errors of the Redis store. Every Lua script answers a negative integer when it refuses to act;
 * `errorFromScriptCode` is the one place those codes become named errors. Each error carries a string
 * `code`, the data needed to log it, and `unrecoverable`: true when retrying the same call cannot
 * succeed, so a worker fails its job at once instead of burning its attempts.
 */

/** Negative replies of our Lua scripts (see the header of each file in ../lua). */
export const SCRIPT_CODES = {
  BAD_ARGUMENTS: -1,
  LOCK_NOT_HELD: -2,
  BATCH_EXISTS: -3,
} as const;

export type ScriptCodeName = keyof typeof SCRIPT_CODES;
export type RedisStoreErrorCode = ScriptCodeName | 'UNKNOWN_SCRIPT_CODE' | 'CROSS_SLOT' | 'INVALID_INPUT' | 'UNEXPECTED_REPLY';

export class RedisStoreError extends Error {
  readonly code: RedisStoreErrorCode;
  readonly unrecoverable: boolean;
  readonly data: Readonly<Record<string, unknown>>;

  constructor(code: RedisStoreErrorCode, message: string, options: { unrecoverable: boolean; data?: Record<string, unknown> }) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.unrecoverable = options.unrecoverable;
    this.data = options.data ?? {};
  }
}

/** A script rejected its arguments: a bug in the caller, never fixed by a retry. */
export class BadScriptArgumentsError extends RedisStoreError {
  constructor(data: Record<string, unknown>) {
    super('BAD_ARGUMENTS', `Redis script ${String(data.script)} rejected its arguments`, { unrecoverable: true, data });
  }
}

/** The branch lock is held by another token (or expired): the caller no longer owns the user entry. */
export class LockNotHeldError extends RedisStoreError {
  constructor(data: Record<string, unknown>) {
    super('LOCK_NOT_HELD', `branch lock ${firstKey(data)} is not held by this token`, { unrecoverable: true, data });
  }
}

/** The batch key chosen for a carve exists already; carving again with a fresh batch id succeeds. */
export class BatchExistsError extends RedisStoreError {
  constructor(data: Record<string, unknown>) {
    super('BATCH_EXISTS', `batch ${firstKey(data)} exists already`, { unrecoverable: false, data });
  }
}

/** Keys passed to one script hash to different cluster slots: a key-building bug, caught before Redis Cluster would. */
export class CrossSlotError extends RedisStoreError {
  constructor(data: Record<string, unknown>) {
    super('CROSS_SLOT', `keys of Redis script ${String(data.script)} do not share one hash slot`, { unrecoverable: true, data });
  }
}

/** A value that cannot be stored as given (e.g. a user id containing the member separator "|"). */
export class InvalidInputError extends RedisStoreError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super('INVALID_INPUT', message, { unrecoverable: true, data });
  }
}

/** Redis answered with a shape the script's contract does not allow. */
export class UnexpectedReplyError extends RedisStoreError {
  constructor(data: Record<string, unknown>) {
    super('UNEXPECTED_REPLY', `unexpected reply from Redis script ${String(data.script)}`, { unrecoverable: false, data });
  }
}

function firstKey(data: Record<string, unknown>): string {
  const keys = data.keys;
  return Array.isArray(keys) ? String(keys[0]) : 'key';
}

/** Maps a script's negative reply to its named error; `data` says which script and keys it was about. */
export function errorFromScriptCode(code: number, data: { script: string } & Record<string, unknown>): RedisStoreError {
  switch (code) {
    case SCRIPT_CODES.BAD_ARGUMENTS:
      return new BadScriptArgumentsError(data);
    case SCRIPT_CODES.LOCK_NOT_HELD:
      return new LockNotHeldError(data);
    case SCRIPT_CODES.BATCH_EXISTS:
      return new BatchExistsError(data);
    default:
      return new RedisStoreError('UNKNOWN_SCRIPT_CODE', `Redis script ${data.script} answered unknown code ${code}`, {
        unrecoverable: true,
        data: { ...data, scriptCode: code },
      });
  }
}
