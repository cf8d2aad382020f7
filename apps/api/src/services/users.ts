import { USER_LIMITS, type JsonValue } from '@journey/core';
import { previousStreamId, type JourneyState, type JourneyStatesRepository, type User, type UsersRepository } from '@journey/mongo';
import { attributesRecord, eraseRecord, type Ingest, type NotStored } from './ingest.js';

/** A failure the caller reports as "try again": Redis could not be used. */
export interface Unavailable {
  ok: false;
  reason: 'unavailable';
  message: string;
}

/** The change would leave the user with more attributes than a user may hold. */
export interface TooManyAttributes {
  ok: false;
  reason: 'too_many_attributes';
  message: string;
}

export type UpsertOutcome = { ok: true; user: User } | TooManyAttributes | Unavailable;
export type ProfileOutcome = { ok: true; profile: { user: User; journeys: JourneyState[] } } | { ok: false; reason: 'not_found' };
export type EraseOutcome = { ok: true } | { ok: false; reason: 'not_found' } | Unavailable;

export interface UsersService {
  /**
   * Merges the attributes into MongoDB at once, then appends an `attributes` record so the user's drain evaluates
   * exit criteria in order with the user's events. Refuses before writing when Redis is down, so a refusal in the
   * common case changed nothing, and when the user would hold more than `USER_LIMITS.attributes` attributes
   * (judged on the stored attributes just read: concurrent requests for one user can pass it together by what
   * they add, which the per-request bound keeps small).
   */
  upsertAttributes(userId: string, attributes: Record<string, JsonValue>): Promise<UpsertOutcome>;
  /** The user (attributes and muted message types) and journey states; not_found when no user document exists. */
  profile(userId: string): Promise<ProfileOutcome>;
  /** Applies mutes and unmutes in one write and returns every muted type now. */
  updateSubscriptions(userId: string, change: { muted?: string[]; unmuted?: string[] }): Promise<string[]>;
  /**
   * Erases the user everywhere: first an `erase` record in the user's partition (records accepted before it are
   * never applied: the drain skips them, and erases again when it reaches it), then the profile (a tombstone),
   * journey states, locks, mutes and send history at once. Scheduled items find no state when due and do nothing.
   */
  erase(userId: string): Promise<EraseOutcome>;
}

export interface UsersServiceOptions {
  users: Pick<UsersRepository, 'mergeAttributes' | 'get' | 'updateMuted'>;
  /** Everything the engine holds of a user, erased up to their erase record (the stores' `erase`). */
  erase: (userId: string, upToRecord: string) => Promise<void>;
  states: Pick<JourneyStatesRepository, 'listForUser'>;
  ingest: Ingest;
  now?: () => number;
}

const unavailable = (message: string): Unavailable => ({ ok: false, reason: 'unavailable', message });

function notNotified(stored: NotStored): string {
  return stored === 'none'
    ? 'The attributes were saved, but Redis is unavailable, so journeys have not seen the change yet: send the same request again'
    : 'The attributes were saved, but queueing the change for the journeys failed: send the same request again';
}

export function createUsersService({ users, states, ingest, erase, now = Date.now }: UsersServiceOptions): UsersService {
  return {
    async upsertAttributes(userId, attributes) {
      if (!ingest.isAvailable()) return unavailable('Redis is unavailable: nothing was changed; try again later');
      const names = new Set(Object.keys((await users.get(userId))?.attributes ?? {}));
      for (const [name, value] of Object.entries(attributes)) {
        if (value === null) names.delete(name);
        else names.add(name);
      }
      if (names.size > USER_LIMITS.attributes) {
        return {
          ok: false,
          reason: 'too_many_attributes',
          message: `a user holds at most ${USER_LIMITS.attributes} attributes: this change would make ${names.size} (remove some with null)`,
        };
      }
      const at = now();
      const user = await users.mergeAttributes(userId, attributes, new Date(at));
      // Merging is idempotent, so a retry after a failure here re-applies the same values and appends the record.
      const outcome = await ingest.append([attributesRecord(userId, at)]);
      return outcome.ok ? { ok: true, user } : unavailable(notNotified(outcome.stored));
    },

    async profile(userId) {
      const [user, journeys] = await Promise.all([users.get(userId), states.listForUser(userId)]);
      if (!user) return { ok: false, reason: 'not_found' };
      return { ok: true, profile: { user, journeys } };
    },

    async erase(userId) {
      if (!(await users.get(userId))) return { ok: false, reason: 'not_found' };
      const outcome = await ingest.append([eraseRecord(userId, now())]);
      const [appended] = outcome.ok ? outcome.results : [];
      if (appended?.status !== 'accepted') {
        return unavailable('Redis is unavailable: the user was not erased; send the same request again');
      }
      // Everything before the erase record is held back; the drain still applies the record itself, and erases again.
      await erase(userId, previousStreamId(appended.streamId));
      return { ok: true };
    },

    async updateSubscriptions(userId, change) {
      return (await users.updateMuted(userId, change, new Date(now()))).muted;
    },
  };
}
