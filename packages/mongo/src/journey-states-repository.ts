import {
  ENTRY_STATUSES,
  ID_PATTERN,
  JsonObjectSchema,
  SEND_REASONS,
  type EntryCommit,
  type EntryState,
  type JsonObject,
  type MessageRecord,
} from '@journey/core';
import { randomBytes } from 'node:crypto';
import type { AnyBulkWriteOperation, Db } from 'mongodb';
import { z } from 'zod';
import { duplicateKeyIndexes, isDuplicateKeyError } from './store-errors.js';

export const JourneyStateStatusSchema = z.enum(ENTRY_STATUSES);
export type JourneyStateStatus = z.infer<typeof JourneyStateStatusSchema>;

/** The `action_paths` step an entry waits on: an event matching one of its paths is scheduled expecting `token`. */
const AwaitingStepSchema = z.object({ stepId: z.string(), token: z.string(), deadline: z.date() });
export type AwaitingStep = z.infer<typeof AwaitingStepSchema>;

/**
 * The event that picked an `action_paths` path (for `{{event.X}}` templates after it): `token` is the awaiting
 * token it answered, `recordId` the ingest record (stream id) that carried it.
 */
const ActionEventSchema = z.object({ token: z.string(), recordId: z.string(), name: z.string(), properties: JsonObjectSchema });
export type ActionEvent = z.infer<typeof ActionEventSchema>;

/** Why a message was not sent: `skipped` ones by the dispatcher's checks, `failed` ones by the channel. */
export const SendReasonSchema = z.enum(SEND_REASONS);
export type SendReason = z.infer<typeof SendReasonSchema>;

export const MessageStatusSchema = z.enum(['sent', 'failed', 'skipped', 'retrying']);
export type MessageStatus = z.infer<typeof MessageStatusSchema>;

/**
 * How the last visit of a message step stands: `sent` (delivered), `failed` (the receiver refused it, or the retry
 * window ran out; `reason` says why), `skipped` (not sent on purpose) or `retrying` (the receiver did not take it yet;
 * the next attempt is due at `nextAttemptAt`). Written by the step's own commit, so the state and its messages move
 * together: a retry that finds the state moved on finds the message too. `token` and `visit` tell this visit from
 * an earlier one of the same step in the entry (a loop), which sends a message of its own.
 */
const MessageOutcomeSchema = z.object({
  status: MessageStatusSchema,
  reason: SendReasonSchema.nullish().transform((value) => value ?? null),
  /** HTTP tries it took (0 for a skip). */
  attempts: z.number().int().nonnegative(),
  /** When it ended; null while retrying. */
  completedAt: z.date().nullable(),
  /** The token of the item that made this visit (absent on records kept before visits were told apart). */
  token: z
    .string()
    .nullish()
    .transform((value) => value ?? null),
  /** 1 for the step's first visit in the entry. */
  visit: z
    .number()
    .int()
    .positive()
    .nullish()
    .transform((value) => value ?? 1),
  firstAttemptAt: z
    .date()
    .nullish()
    .transform((value) => value ?? null),
  nextAttemptAt: z
    .date()
    .nullish()
    .transform((value) => value ?? null),
  /** What the last failed attempt saw, while retrying or once failed. */
  lastError: z
    .string()
    .nullish()
    .transform((value) => value ?? null),
  /** The branch the walk took last before the step (the message's `branchId`): a retry sends what the first attempt sent. */
  branch: z
    .object({ stepId: z.string(), branchId: z.string() })
    .nullish()
    .transform((value) => value ?? null),
  /** While retrying: the request the first attempt sent, sent again as it was. */
  request: z
    .object({
      method: z.enum(['POST', 'PUT', 'PATCH']),
      url: z.string(),
      headers: z.record(z.string(), z.string()),
      payload: JsonObjectSchema,
    })
    .nullish()
    .transform((value) => value ?? null),
});
export type MessageOutcome = z.infer<typeof MessageOutcomeSchema>;
export type MessageOutcomeInput = z.input<typeof MessageOutcomeSchema>;

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
  // Absent reads as null: states written before these fields existed.
  awaiting: AwaitingStepSchema.nullish().transform((value) => value ?? null),
  actionEvent: ActionEventSchema.nullish().transform((value) => value ?? null),
  /** The messages of this entry, by message step id (absent: none yet, or a state written before they were kept). */
  messages: z
    .record(z.string(), MessageOutcomeSchema)
    .nullish()
    .transform((value) => value ?? {}),
  /** The last commit that changed the state: `key` names the decision (a retry of it does not land twice), `nonce` the try. */
  lastCommit: z
    .object({ key: z.string(), nonce: z.string() })
    .nullish()
    .transform((value) => value ?? null),
  /** The steps this entry reached and the branches it took (`step:branch`), for its goal conversion. */
  path: z
    .object({ steps: z.array(z.string()), branches: z.array(z.string()) })
    .nullish()
    .transform((value) => value ?? { steps: [], branches: [] }),
  /** When this entry converted (the journey's goal); null until then. */
  convertedAt: z
    .date()
    .nullish()
    .transform((value) => value ?? null),
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
  /** The `action_paths` step the entry waits on, or null. */
  awaiting: AwaitingStep | null;
  /** The event that picked the last `action_paths` path of this entry, or null. */
  actionEvent: ActionEvent | null;
  /** How this entry's message steps stand (the last visit of each), by step id. */
  messages: Record<string, MessageOutcome>;
  lastCommit: { key: string; nonce: string } | null;
  path: { steps: string[]; branches: string[] };
  convertedAt: Date | null;
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

/** What a step's commit writes: core's EntryCommit (instants in epoch ms). */
export type StepCommit = EntryCommit;

/** An event that matched a path of the step the entry awaits (see `claimActionEvent`). */
export interface ActionEventClaim {
  journeyId: string;
  userId: string;
  entryId: string;
  /** The awaiting token the event answers. */
  awaitingToken: string;
  /** The ingest record (stream id) carrying the event. */
  recordId: string;
  name: string;
  properties: JsonObject;
  now: Date;
}

export interface JourneyStatesRepository {
  ensureIndexes(): Promise<void>;
  get(journeyId: string, userId: string): Promise<JourneyState | null>;
  listForUser(userId: string): Promise<JourneyState[]>;
  /** The states of these users in one journey (users never in it have none), in one query. */
  listForJourney(journeyId: string, userIds: readonly string[]): Promise<JourneyState[]>;
  /** One conditional upsert: enters the user unless they are active in the journey already. */
  enter(input: EnterInput): Promise<EnterResult>;
  /**
   * `enter` for many users (results in input order): users without a state are inserted by one unordered
   * insertMany, and only those who have one take the conditional `enter`. The same outcome in far fewer round
   * trips when a whole audience enters.
   */
  enterMany(inputs: readonly EnterInput[]): Promise<EnterResult[]>;
  /** Ends the entry as exited, if it is still the active one; false when it was not. */
  exit(journeyId: string, userId: string, entryId: string, now: Date): Promise<boolean>;
  /**
   * Stores the event that answers the entry's wait, unless an event already answered that wait: "the first
   * matching event picks its path". True when the state holds THIS record's event for the wait (stored now, or
   * by an earlier application of the same record), so the caller schedules its path; false when another event
   * was first or the entry no longer waits on that token and no event of this record was stored.
   * Callers are serialised per user anyway (one drain per partition).
   */
  claimActionEvent(claim: ActionEventClaim): Promise<boolean>;
  /**
   * Applies a batch's commit operations in unordered bulkWrites (of at most 50 each) and tells which landed now (in
   * input order). A commit lands only on the entry it names, at the token it read, once: a state that took a commit
   * of the same `key` refuses it. When fewer states changed than were committed, the states are read once to tell
   * which: a state holding this call's nonce got it now.
   */
  commitEach(commits: StepCommit[]): Promise<boolean[]>;
  /**
   * Marks the entry converted, once: the path it had reached then when it did now, null when it was converted
   * before (a re-applied record) or is not the user's entry any more.
   */
  convert(journeyId: string, userId: string, entryId: string, at: Date): Promise<{ steps: string[]; branches: string[] } | null>;
  /** Every state of the user, gone (erasure); returns what they were, for the keys that name them. */
  deleteForUser(userId: string): Promise<Array<{ journeyId: string; entryId: string }>>;
  /** Every state in the journey, gone (the journey is deleted). */
  deleteForJourney(journeyId: string): Promise<number>;
}

/**
 * Every filter names the user (`userId`): on a sharded cluster the collection is sharded on { userId: "hashed" }, so a
 * read or write goes to the one shard holding the user's states, and an upsert must name the shard key. The `_id`
 * (journeyId:userId) is unique per shard only; it embeds the user, so a given `_id` always lives on that user's shard
 * and is unique after all.
 */
const COLLECTION = 'journey_states';

/** Conditional entries in flight at once in `enterMany`. */
const ENTER_PARALLEL = 16;

/**
 * Update statements per `bulkWrite` of `commitEach`: a batch (up to 200 members) commits in a few commands, each short
 * enough that a MongoDB-protocol server holding a lock per command (the embedded store's collection lock) lets other
 * commands in between.
 */
const COMMIT_SLICE = 50;

/** Step ids become a field name under `messages`: the journey schema's id pattern holds no `.` and no `$`. */
function messageKey(stepId: string): string {
  if (!ID_PATTERN.test(stepId)) throw new Error(`step id ${JSON.stringify(stepId)} cannot name a message field`);
  return stepId;
}

/** What a new entry sets in the user's state (the entry count and first entry are the caller's: insert or upsert). */
function newEntry(input: EnterInput) {
  return {
    journeyId: input.journeyId,
    userId: input.userId,
    status: 'active' as const,
    version: input.version,
    entryId: input.entryId,
    stepId: input.stepId,
    token: input.token,
    trigger: input.trigger,
    awaiting: null,
    actionEvent: null,
    messages: {},
    lastCommit: null,
    path: { steps: [], branches: [] },
    convertedAt: null,
    lastEnteredAt: input.now,
    updatedAt: input.now,
    endedAt: null,
  };
}

/** A core message record as stored (dates for instants). */
function storedMessage(record: MessageRecord): MessageOutcomeInput {
  const date = (ms: number | null) => (ms === null ? null : new Date(ms));
  return {
    ...record,
    completedAt: date(record.completedAt),
    firstAttemptAt: date(record.firstAttemptAt),
    nextAttemptAt: date(record.nextAttemptAt),
  };
}

/** A stored state as core's decisions read it (epoch ms for instants). */
export function toEntryState(state: JourneyState): EntryState {
  const ms = (date: Date | null) => (date === null ? null : date.getTime());
  const messages: Record<string, MessageRecord> = {};
  for (const [stepId, message] of Object.entries(state.messages)) {
    messages[stepId] = {
      ...message,
      completedAt: ms(message.completedAt),
      firstAttemptAt: ms(message.firstAttemptAt),
      nextAttemptAt: ms(message.nextAttemptAt),
    };
  }
  return {
    journeyId: state.journeyId,
    userId: state.userId,
    version: state.version,
    entryId: state.entryId,
    status: state.status,
    stepId: state.stepId,
    token: state.token,
    trigger: state.trigger,
    awaiting: state.awaiting ? { ...state.awaiting, deadline: state.awaiting.deadline.getTime() } : null,
    actionEvent: state.actionEvent,
    messages,
    lastEnteredAt: state.lastEnteredAt.getTime(),
    path: state.path,
    convertedAt: state.convertedAt?.getTime() ?? null,
  };
}

function toPath(stored: unknown): { steps: string[]; branches: string[] } {
  return JourneyStateDocumentSchema.shape.path.parse(stored);
}

export function journeyStateId(journeyId: string, userId: string): string {
  return `${journeyId}:${userId}`;
}

function toState(stored: unknown): JourneyState {
  const { _id, ...state } = JourneyStateDocumentSchema.parse(stored);
  return state;
}

export function createJourneyStatesRepository(db: Db): JourneyStatesRepository {
  const states = db.collection<JourneyStateDocument>(COLLECTION);

  /** The single write that commits a user's step (and its message record), conditional on entry, token and key. */
  function commitOperation(commit: StepCommit, nonce: string): AnyBulkWriteOperation<JourneyStateDocument> {
    const ended = commit.status !== 'active';
    const now = new Date(commit.now);
    const $set: Record<string, unknown> = {
      token: commit.token,
      stepId: commit.stepId,
      status: commit.status,
      awaiting: commit.awaiting ? { ...commit.awaiting, deadline: new Date(commit.awaiting.deadline) } : null,
      lastCommit: { key: commit.key, nonce },
      updatedAt: now,
      endedAt: ended ? now : null,
    };
    if (commit.message)
      $set[`messages.${messageKey(commit.message.stepId)}`] = MessageOutcomeSchema.parse(storedMessage(commit.message.record));
    const steps = commit.path?.steps ?? [];
    const branches = commit.path?.branches ?? [];
    const $addToSet: Record<string, unknown> = {};
    if (steps.length > 0) $addToSet['path.steps'] = { $each: steps };
    if (branches.length > 0) $addToSet['path.branches'] = { $each: branches };
    return {
      updateOne: {
        filter: {
          _id: journeyStateId(commit.journeyId, commit.userId),
          userId: commit.userId,
          entryId: commit.entryId,
          token: commit.expectedToken,
          status: 'active',
          'lastCommit.key': { $ne: commit.key },
        },
        update: Object.keys($addToSet).length > 0 ? { $set, $addToSet } : { $set },
      },
    };
  }

  const repository: JourneyStatesRepository = {
    async ensureIndexes() {
      await states.createIndex({ userId: 1 }, { name: 'userId' });
      // For counts of a journey's states by operators and tests: no path of the engine filters by journey alone (on a
      // sharded cluster such a count asks every shard, each answering from its own index).
      await states.createIndex({ journeyId: 1, status: 1 }, { name: 'journeyId_status' });
    },

    async get(journeyId, userId) {
      const doc = await states.findOne({ _id: journeyStateId(journeyId, userId), userId });
      return doc ? toState(doc) : null;
    },

    async listForUser(userId) {
      const docs = await states.find({ userId }).sort({ journeyId: 1 }).toArray();
      return docs.map(toState);
    },

    async listForJourney(journeyId, userIds) {
      if (userIds.length === 0) return [];
      const docs = await states
        .find({ _id: { $in: userIds.map((userId) => journeyStateId(journeyId, userId)) }, userId: { $in: [...userIds] } })
        .toArray();
      return docs.map(toState);
    },

    async enter(input) {
      const _id = journeyStateId(input.journeyId, input.userId);
      const { userId } = input;
      try {
        // Matches only a state that is not active (or, upserting, none): a user is never in a journey twice at once.
        // Nor one that holds this entry already, even ended: re-applying a record must not start its entry again.
        await states.updateOne(
          { _id, userId, status: { $ne: 'active' }, entryId: { $ne: input.entryId } },
          { $set: newEntry(input), $setOnInsert: { firstEnteredAt: input.now }, $inc: { entries: 1 } },
          { upsert: true },
        );
        return 'entered';
      } catch (error) {
        // The upsert collided with a state of the same _id that is active or holds this entry.
        if (!isDuplicateKeyError(error)) throw error;
        const current = await states.findOne({ _id, userId });
        return current?.entryId === input.entryId ? 'same-entry' : 'already-active';
      }
    },

    async exit(journeyId, userId, entryId, now) {
      const result = await states.updateOne(
        { _id: journeyStateId(journeyId, userId), userId, entryId, status: 'active' },
        { $set: { status: 'exited', stepId: null, awaiting: null, updatedAt: now, endedAt: now } },
      );
      return result.modifiedCount === 1;
    },

    async claimActionEvent(claim) {
      const _id = journeyStateId(claim.journeyId, claim.userId);
      const { userId } = claim;
      const actionEvent: ActionEvent = {
        token: claim.awaitingToken,
        recordId: claim.recordId,
        name: claim.name,
        properties: claim.properties,
      };
      const result = await states.updateOne(
        {
          _id,
          userId,
          entryId: claim.entryId,
          status: 'active',
          'awaiting.token': claim.awaitingToken,
          'actionEvent.token': { $ne: claim.awaitingToken },
        },
        { $set: { actionEvent, updatedAt: claim.now } },
      );
      if (result.modifiedCount === 1) return true;
      // Not stored now: either this record stored it before (a retried drain, which must schedule its path again) or another event won.
      const current = await states.findOne({ _id, userId });
      const stored = current ? toState(current) : null;
      return (
        stored?.entryId === claim.entryId &&
        stored.actionEvent?.token === claim.awaitingToken &&
        stored.actionEvent.recordId === claim.recordId
      );
    },

    async commitEach(commits) {
      const nonce = randomBytes(9).toString('base64url');
      let modified = 0;
      for (let first = 0; first < commits.length; first += COMMIT_SLICE) {
        const slice = commits.slice(first, first + COMMIT_SLICE).map((commit) => commitOperation(commit, nonce));
        const result = await states.bulkWrite(slice, { ordered: false });
        modified += result.modifiedCount;
      }
      if (modified === commits.length) return commits.map(() => true);
      // A bulk write says how many changed, not which: a state holding this call's nonce and the commit's key got it.
      const ids = commits.map((commit) => journeyStateId(commit.journeyId, commit.userId));
      const userIds = [...new Set(commits.map((commit) => commit.userId))];
      const byId = new Map(
        (await states.find({ _id: { $in: ids }, userId: { $in: userIds } }, { projection: { lastCommit: 1, entryId: 1 } }).toArray()).map(
          (doc) => [doc._id, doc],
        ),
      );
      return commits.map((commit, index) => {
        const doc = byId.get(ids[index]!);
        return doc?.entryId === commit.entryId && doc.lastCommit?.key === commit.key && doc.lastCommit.nonce === nonce;
      });
    },

    async convert(journeyId, userId, entryId, at) {
      const converted = await states.findOneAndUpdate(
        { _id: journeyStateId(journeyId, userId), userId, entryId, convertedAt: null },
        { $set: { convertedAt: at } },
        { returnDocument: 'after', projection: { path: 1 } },
      );
      if (!converted) return null;
      return toPath(converted.path);
    },

    async deleteForUser(userId) {
      const found = await states.find({ userId }, { projection: { journeyId: 1, entryId: 1 } }).toArray();
      await states.deleteMany({ userId });
      return found.map(({ journeyId, entryId }) => ({ journeyId, entryId }));
    },

    // The only filter without the user: a deleted journey's states, on every shard (a rare, whole-journey delete).
    async deleteForJourney(journeyId) {
      return (await states.deleteMany({ journeyId })).deletedCount;
    },

    async enterMany(inputs) {
      if (inputs.length === 0) return [];
      const results: EnterResult[] = inputs.map(() => 'entered');
      const existing: number[] = [];
      try {
        // Exactly the document `enter` would upsert for a user without a state.
        await states.insertMany(
          inputs.map((input) => ({
            _id: journeyStateId(input.journeyId, input.userId),
            ...newEntry(input),
            firstEnteredAt: input.now,
            entries: 1,
          })),
          { ordered: false },
        );
      } catch (error) {
        const duplicates = duplicateKeyIndexes(error);
        if (duplicates === null) throw error;
        existing.push(...duplicates);
      }
      // These users have a state already (any status): the conditional entry decides, a few at a time.
      for (let first = 0; first < existing.length; first += ENTER_PARALLEL) {
        await Promise.all(
          existing.slice(first, first + ENTER_PARALLEL).map(async (index) => {
            results[index] = await repository.enter(inputs[index]!);
          }),
        );
      }
      return results;
    },
  };
  return repository;
}
