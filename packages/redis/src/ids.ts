import { z } from 'zod';

/**
 * What may go into our keys and members, decided at the edge so every key can be parsed back
 * unambiguously.
 *
 * - User ids come from apps: any string of 1 to 256 characters WITHOUT "|", the separator of due-set
 *   members. The API rejects such ids with a 400; this package throws InvalidInputError.
 * - Journey and step ids are ours: 1 to 64 letters, digits, "_" or "-" (no ":" or "."), so due-set,
 *   batch and lock keys split back into their parts.
 * - Entry ids and branch tokens are ours too and are stored once per waiting user, so they stay short:
 *   1 to 64 of letters, digits, "_", "-" or ".".
 */
export const MEMBER_SEPARATOR = '|';

export const UserIdSchema = z
  .string()
  .min(1)
  .max(256)
  .refine((value) => !value.includes(MEMBER_SEPARATOR), { message: `must not contain "${MEMBER_SEPARATOR}"` });

export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const KeyIdSchema = z.string().regex(KEY_ID_PATTERN, 'must be 1 to 64 letters, digits, "_" or "-"');

export const TOKEN_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const TokenSchema = z.string().regex(TOKEN_PATTERN, 'must be 1 to 64 letters, digits, "_", "-" or "."');

/** A journey version in keys: a non-negative safe integer. */
export const VersionSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A stream entry id, `<ms>-<seq>`. */
export const STREAM_ID_PATTERN = /^\d{1,20}-\d{1,20}$/;
