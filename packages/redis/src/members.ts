import { InvalidInputError } from './errors.js';
import { MEMBER_SEPARATOR, TOKEN_PATTERN, UserIdSchema } from './ids.js';

/**
 * A user waiting in a due set (and then in a batch set), stored as ONE compact string:
 *
 *   userId|entryId|expectedToken|ownToken
 *
 * e.g. `u-123|e1|t4|t5`, or `u-123|e1||t1` for the first step of an entry (no expected token).
 * The branch (journey, version, step) and the second live in the set's key, not in every member. The
 * user id is the only field the engine does not generate, hence "|" is refused in user ids at the edge
 * (see ids.ts).
 *
 * Memory: a set member costs its string rounded up to an allocator size class plus the set's entry and
 * bucket. Measured on Redis 7.0 (MEMORY USAGE, 20k-40k members): members of up to 44 bytes take 92 bytes
 * per waiting user, 45 to 60 bytes take 108. The < 100 bytes target therefore means encoded members of
 * at most MEMBER_BUDGET_BYTES: with a 24-character user id, entry ids and tokens have 17 bytes between
 * them (e.g. a 10-character entry id and 3-4 character tokens). Longer ids still work, just above target.
 */
export const MEMBER_BUDGET_BYTES = 44;

export interface DueMember {
  userId: string;
  entryId: string;
  /** The token the branch lock must hold for this step to run; "" for the entry's first step. */
  expectedToken: string;
  /** The token this step writes into the branch lock. */
  ownToken: string;
}

export function encodeDueMember(member: DueMember): string {
  const problem = memberProblem(member);
  if (problem) throw new InvalidInputError(`due member ${problem}`, { member });
  return [member.userId, member.entryId, member.expectedToken, member.ownToken].join(MEMBER_SEPARATOR);
}

/** Strict inverse of encodeDueMember: undefined for anything encodeDueMember could not have written. */
export function decodeDueMember(raw: string): DueMember | undefined {
  const parts = raw.split(MEMBER_SEPARATOR);
  if (parts.length !== 4) return undefined;
  const [userId, entryId, expectedToken, ownToken] = parts as [string, string, string, string];
  const member = { userId, entryId, expectedToken, ownToken };
  return memberProblem(member) ? undefined : member;
}

function memberProblem(member: DueMember): string | undefined {
  if (!UserIdSchema.safeParse(member.userId).success) return `user id must be 1 to 256 characters without "${MEMBER_SEPARATOR}"`;
  if (!TOKEN_PATTERN.test(member.entryId)) return 'entry id must be 1 to 64 letters, digits, "_", "-" or "."';
  if (member.expectedToken !== '' && !TOKEN_PATTERN.test(member.expectedToken))
    return 'expected token must be empty or 1 to 64 letters, digits, "_", "-" or "."';
  if (!TOKEN_PATTERN.test(member.ownToken)) return 'own token must be 1 to 64 letters, digits, "_", "-" or "."';
  if (member.ownToken === member.expectedToken) return 'own token must differ from the expected token';
  return undefined;
}
