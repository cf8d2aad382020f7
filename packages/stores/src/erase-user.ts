import type { Stores } from './create-stores.js';

/**
 * Erases everything the engine holds of a user: the profile becomes a tombstone whose record mark is `upToRecord`
 * (the user's `erase` record), with no attributes or mutes, so records of theirs accepted before the erasure are
 * never applied; then their journey states, branch locks and send history go. The tombstone comes first: a step of theirs
 * dispatched meanwhile finds no user and does nothing, and once the states are gone, every item still in a due set
 * finds no state when it comes due, and is dropped. Idempotent: the API runs it at once, and the drain again when
 * it reaches the erase record (in case a record before it was being applied at that moment).
 */
export function createUserErasure(
  stores: Pick<Stores, 'users' | 'states' | 'branchLock' | 'sendHistory'>,
  now: () => number,
): (userId: string, upToRecord: string) => Promise<void> {
  return async (userId, upToRecord) => {
    await stores.users.erase(userId, upToRecord, new Date(now()));
    const entries = await stores.states.deleteForUser(userId);
    await Promise.all([stores.branchLock.remove(entries.map((entry) => ({ ...entry, userId }))), stores.sendHistory.forget(userId)]);
  };
}
