import { createHash } from 'node:crypto';

/**
 * The id of the one message a step sends for one user entry, formatted as a UUID (version 8, "custom")
 * so it fits any idempotency-key column. It is a hash of its inputs, so every retry, worker and crash
 * recovery computes the same id and the receiver can drop duplicates.
 */
export function messageId(journeyId: string, userId: string, entryId: string, stepId: string): string {
  // JSON keeps the parts apart: ("a:b", "c") and ("a", "b:c") must not collide.
  const hex = createHash('sha256')
    .update(JSON.stringify([journeyId, userId, entryId, stepId]), 'utf8')
    .digest('hex');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
