import { MongoServerError, type Db } from 'mongodb';
import { z } from 'zod';

export const SendStatusSchema = z.enum(['pending', 'sent', 'failed', 'skipped']);
export type SendStatus = z.infer<typeof SendStatusSchema>;

/** Why a message was not sent: `skipped` ones by the dispatcher's checks, `failed` ones by the channel. */
export const SendReasonSchema = z.enum(['muted', 'frequency_cap', 'http_3xx', 'http_4xx', 'retries_exhausted', 'invalid_url']);
export type SendReason = z.infer<typeof SendReasonSchema>;

export const SendAttemptOutcomeSchema = z.enum(['ok', 'http_error', 'timeout', 'network_error']);
export type SendAttemptOutcome = z.infer<typeof SendAttemptOutcomeSchema>;

const SendAttemptSchema = z.object({
  at: z.date(),
  durationMs: z.number().nonnegative(),
  outcome: SendAttemptOutcomeSchema,
  /** The HTTP status, when a response came. */
  status: z.number().int().nullish().transform((value) => value ?? undefined),
  /** What went wrong: the network error, or the start of an error response's body. */
  error: z.string().nullish().transform((value) => value ?? undefined),
});

/** One HTTP try of a message. */
export interface SendAttempt {
  at: Date;
  durationMs: number;
  outcome: SendAttemptOutcome;
  status?: number;
  error?: string;
}

const SendDocumentSchema = z.object({
  _id: z.string(),
  journeyId: z.string(),
  version: z.number().int().positive(),
  stepId: z.string(),
  branchId: z.string().nullable(),
  userId: z.string(),
  entryId: z.string(),
  messageType: z.string(),
  url: z.string(),
  status: SendStatusSchema,
  // Absent reads as null, like every nullable field written before it is known.
  reason: SendReasonSchema.nullish().transform((value) => value ?? null),
  attempts: z.array(SendAttemptSchema),
  createdAt: z.date(),
  completedAt: z.date().nullish().transform((value) => value ?? null),
});
type SendDocument = z.input<typeof SendDocumentSchema>;

export interface Send {
  messageId: string;
  journeyId: string;
  version: number;
  stepId: string;
  branchId: string | null;
  userId: string;
  entryId: string;
  messageType: string;
  url: string;
  status: SendStatus;
  reason: SendReason | null;
  attempts: SendAttempt[];
  createdAt: Date;
  completedAt: Date | null;
}

export interface BeginSend {
  messageId: string;
  journeyId: string;
  version: number;
  stepId: string;
  branchId: string | null;
  userId: string;
  entryId: string;
  messageType: string;
  url: string;
  now: Date;
}

/**
 * `created`: this call recorded the message, so it is the first try. Otherwise `send` is the record an earlier try
 * left: `sent` must not be sent again, `pending` is a try that crashed before it finished.
 */
export interface BeginResult {
  created: boolean;
  send: Send;
}

export type SendCompletion =
  | { status: 'sent'; now: Date; attempt?: SendAttempt }
  | { status: 'failed' | 'skipped'; reason: SendReason; now: Date; attempt?: SendAttempt };

export interface SendsRepository {
  ensureIndexes(): Promise<void>;
  /** Records the message as pending, once: a second call finds the first one's record instead (a unique-key insert). */
  begin(message: BeginSend): Promise<BeginResult>;
  recordAttempt(messageId: string, attempt: SendAttempt): Promise<void>;
  /**
   * Ends the record, with its last attempt in the same write. `sent` wins over anything (the message did go out);
   * `failed` and `skipped` only end a pending record. False when the record was not changed.
   */
  complete(messageId: string, completion: SendCompletion): Promise<boolean>;
  get(messageId: string): Promise<Send | null>;
  /** The user's messages sent after `since` (by `completedAt`), oldest first: what a frequency cap counts. */
  recentSendsForUser(userId: string, since: Date): Promise<Send[]>;
}

const COLLECTION = 'sends';

function toSend(stored: unknown): Send {
  const { _id, ...send } = SendDocumentSchema.parse(stored);
  return { messageId: _id, ...send };
}

/** Writes only the keys that have a value: the driver would store `undefined` as null. */
function attemptDocument(attempt: SendAttempt): SendAttempt {
  const doc: SendAttempt = { at: attempt.at, durationMs: attempt.durationMs, outcome: attempt.outcome };
  if (attempt.status != null) doc.status = attempt.status;
  if (attempt.error != null) doc.error = attempt.error;
  return doc;
}

export function createSendsRepository(db: Db): SendsRepository {
  const sends = db.collection<SendDocument>(COLLECTION);

  return {
    async ensureIndexes() {
      await sends.createIndex({ userId: 1, completedAt: 1 }, { name: 'userId_completedAt' });
    },

    async begin(message) {
      const { messageId, now, ...fields } = message;
      const doc: SendDocument = { _id: messageId, ...fields, status: 'pending', reason: null, attempts: [], createdAt: now, completedAt: null };
      try {
        // A plain insert, not a conditional upsert: unique `_id` is what every server (FerretDB too) enforces atomically.
        await sends.insertOne(doc);
        return { created: true, send: toSend(doc) };
      } catch (error) {
        if (!(error instanceof MongoServerError) || error.code !== 11000) throw error;
        const existing = await sends.findOne({ _id: messageId });
        if (!existing) throw new Error(`send ${messageId} collided on insert but cannot be read back`, { cause: error });
        return { created: false, send: toSend(existing) };
      }
    },

    async recordAttempt(messageId, attempt) {
      await sends.updateOne({ _id: messageId }, { $push: { attempts: attemptDocument(attempt) } });
    },

    async complete(messageId, completion) {
      const reason = completion.status === 'sent' ? null : completion.reason;
      const filter = completion.status === 'sent' ? { _id: messageId, status: { $ne: 'sent' as const } } : { _id: messageId, status: 'pending' as const };
      const result = await sends.updateOne(filter, {
        $set: { status: completion.status, reason, completedAt: completion.now },
        ...(completion.attempt ? { $push: { attempts: attemptDocument(completion.attempt) } } : {}),
      });
      return result.modifiedCount === 1;
    },

    async get(messageId) {
      const doc = await sends.findOne({ _id: messageId });
      return doc ? toSend(doc) : null;
    },

    async recentSendsForUser(userId, since) {
      const docs = await sends.find({ userId, completedAt: { $gt: since }, status: 'sent' }).sort({ completedAt: 1 }).toArray();
      return docs.map(toSend);
    },
  };
}
