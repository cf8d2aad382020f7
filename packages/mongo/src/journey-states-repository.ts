import { JsonObjectSchema, type JsonObject } from '@journey/core';
import { MongoServerError, type AnyBulkWriteOperation, type Db } from 'mongodb';
import { z } from 'zod';

export const JourneyStateStatusSchema = z.enum(['active', 'completed', 'exited']);
export type JourneyStateStatus = z.infer<typeof JourneyStateStatusSchema>;

const JourneyStateDocumentSchema = z.object({
  _id: z.string(),
  journeyId: z.string(),
  userId: z.string(),
  status: JourneyStateStatusSchema,
  version: z.number().int().positive(),
  entryId: z.string(),
  /** The step the user is at (being dispatched, or waiting on); null once the entry ended. */
  stepId: z.string().nullable(),
  /** The branch token that owns the entry now (docs/architecture.md, the branch lock). */
  token: z.string(),
  /** The event that entered the user, for `{{event.X}}` templates; null for api and schedule entries. */
  trigger: z.object({ name: z.string(), properties: JsonObjectSchema }).nullable(),
  firstEnteredAt: z.date(),
  lastEnteredAt: z.date(),
  entries: z.number().int().positive(),
  updatedAt: z.date(),
  endedAt: z.date().nullable(),
});
type JourneyStateDocument = z.infer<typeof JourneyStateDocumentSchema>;

export interface JourneyState {
  journeyId: string;
  userId: string;
  status: JourneyStateStatus;
  version: number;
  entryId: string;
  stepId: string | null;
  token: string;
  trigger: { name: string; properties: JsonObject } | null;
  firstEnteredAt: Date;
  lastEnteredAt: Date;
  entries: number;
  updatedAt: Date;
  endedAt: Date | null;
}

export interface EnterInput {
  journeyId: string;
  userId: string;
  version: number;
  entryId: string;
  stepId: string;
  token: string;
  trigger: { name: string; properties: JsonObject } | null;
  now: Date;
}

/**
 * `entered`: a new entry. `same-entry`: this entry id is already the user's latest (a re-applied record), active or ended.
 * `already-active`: the user is inside the journey with another entry, and stays there.
 */
export type EnterResult = 'entered' | 'same-entry' | 'already-active';

export interface StepCommit {
  journeyId: string;
  userId: string;
  entryId: string;
  /** The token the state must still hold: a commit for a branch that lost changes nothing. */
  expectedToken: string;
  token: string;
  stepId: string | null;
  status: JourneyStateStatus;
  now: Date;
}

export interface JourneyStatesRepository {
  ensureIndexes(): Promise<void>;
  get(journeyId: string, userId: string): Promise<JourneyState | null>;
  listForUser(userId: string): Promise<JourneyState[]>;
  /** One conditional upsert: enters the user unless they are active in the journey already. */
  enter(input: EnterInput): Promise<EnterResult>;
  /** Ends the entry as exited, if it is still the active one; false when it was not. */
  exit(journeyId: string, userId: string, entryId: string, now: Date): Promise<boolean>;
  /** The single write that commits a user's step (for `bulkWrite` per batch), conditional on entry and token. */
  commitOperation(commit: StepCommit): AnyBulkWriteOperation<JourneyStateDocument>;
  /** Applies commit operations of a batch in one unordered bulkWrite; returns how many states changed. */
  commitMany(commits: StepCommit[]): Promise<number>;
}

const COLLECTION = 'journey_states';

export function journeyStateId(journeyId: string, userId: string): string {
  return `${journeyId}:${userId}`;
}

function toState(stored: unknown): JourneyState {
  const { _id, ...state } = JourneyStateDocumentSchema.parse(stored);
  return state;
}

export function createJourneyStatesRepository(db: Db): JourneyStatesRepository {
  const states = db.collection<JourneyStateDocument>(COLLECTION);

  function commitOperation(commit: StepCommit): AnyBulkWriteOperation<JourneyStateDocument> {
    const ended = commit.status !== 'active';
    return {
      updateOne: {
        filter: { _id: journeyStateId(commit.journeyId, commit.userId), entryId: commit.entryId, token: commit.expectedToken, status: 'active' },
        update: { $set: { token: commit.token, stepId: commit.stepId, status: commit.status, updatedAt: commit.now, endedAt: ended ? commit.now : null } },
      },
    };
  }

  return {
    async ensureIndexes() {
      await states.createIndex({ userId: 1 }, { name: 'userId' });
      await states.createIndex({ journeyId: 1, status: 1 }, { name: 'journeyId_status' });
    },

    async get(journeyId, userId) {
      const doc = await states.findOne({ _id: journeyStateId(journeyId, userId) });
      return doc ? toState(doc) : null;
    },

    async listForUser(userId) {
      const docs = await states.find({ userId }).sort({ journeyId: 1 }).toArray();
      return docs.map(toState);
    },

    async enter(input) {
      const _id = journeyStateId(input.journeyId, input.userId);
      try {
        // Matches only a state that is not active (or, upserting, none): a user is never in a journey twice at once.
        // Nor one that holds this entry already, even ended: re-applying a record must not start its entry again.
        await states.updateOne(
          { _id, status: { $ne: 'active' }, entryId: { $ne: input.entryId } },
          {
            $set: {
              journeyId: input.journeyId,
              userId: input.userId,
              status: 'active',
              version: input.version,
              entryId: input.entryId,
              stepId: input.stepId,
              token: input.token,
              trigger: input.trigger,
              lastEnteredAt: input.now,
              updatedAt: input.now,
              endedAt: null,
            },
            $setOnInsert: { firstEnteredAt: input.now },
            $inc: { entries: 1 },
          },
          { upsert: true },
        );
        return 'entered';
      } catch (error) {
        // The upsert collided with a state of the same _id that is active or holds this entry.
        if (!(error instanceof MongoServerError) || error.code !== 11000) throw error;
        const current = await states.findOne({ _id });
        return current?.entryId === input.entryId ? 'same-entry' : 'already-active';
      }
    },

    async exit(journeyId, userId, entryId, now) {
      const result = await states.updateOne(
        { _id: journeyStateId(journeyId, userId), entryId, status: 'active' },
        { $set: { status: 'exited', stepId: null, updatedAt: now, endedAt: now } },
      );
      return result.modifiedCount === 1;
    },

    commitOperation,

    async commitMany(commits) {
      if (commits.length === 0) return 0;
      const result = await states.bulkWrite(commits.map(commitOperation), { ordered: false });
      return result.modifiedCount;
    },
  };
}
