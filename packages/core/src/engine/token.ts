import { createHash } from 'node:crypto';

/**
 * Branch tokens name a user's position in one entry: `<seq>` for the seq-th step the entry reached, and
 * `<seq>.<branchId>` for an `action_paths` step resolved down one path (`timeout` included). Every scheduled
 * step carries the token it expects (the holder's) and its own; racing branches expect the same token and so
 * only one can take the branch lock (docs/architecture.md). Base 36 keeps due-set members short.
 */
export function stepToken(seq: number, branchId?: string): string {
  if (!Number.isInteger(seq) || seq < 0) throw new RangeError(`step sequence must be a non-negative integer, got ${seq}`);
  return branchId === undefined ? seq.toString(36) : `${seq.toString(36)}.${branchId}`;
}

export function parseStepToken(token: string): { seq: number; branchId: string | undefined } {
  const dot = token.indexOf('.');
  const seqPart = dot === -1 ? token : token.slice(0, dot);
  if (!/^[0-9a-z]{1,10}$/.test(seqPart)) throw new RangeError(`not a step token: ${token}`);
  return { seq: parseInt(seqPart, 36), branchId: dot === -1 ? undefined : token.slice(dot + 1) };
}

/** The token that ends every scheduled step of an exited entry: outside base 36, so no step token can equal it. */
export const EXIT_TOKEN = '-';

/**
 * Entry ids are derived from what caused the entry (the ingest record, or the schedule run and user), so
 * applying the same cause twice finds the same entry instead of making a second one. 12 base-36 characters
 * of SHA-256: collisions between two entries of one user in one journey are negligible.
 */
export function entryIdFor(journeyId: string, cause: string): string {
  const digest = createHash('sha256').update(`${journeyId}\u0000${cause}`).digest();
  return (digest.readBigUInt64BE(0) % 36n ** 12n).toString(36).padStart(12, '0');
}
