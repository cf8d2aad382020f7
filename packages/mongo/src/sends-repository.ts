import { MongoBulkWriteError, type Db } from 'mongodb';
import { z } from 'zod';

// `pending` is no longer written (a try records its message once it ended) but reads back from older databases.
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

/**
 * How one message ended, recorded once dispatch is done with it: `sent` (delivered), `failed` (the channel gave up,
 * `reason` says why) or `skipped` (not sent on purpose). No record means no try ended: a crash mid-send leaves none,
 * and the next try posts again with the same Idempotency-Key.
 */
export interface SendRecord {
  messageId: string;
  journeyId: string;
  version: number;
  stepId: string;
  branchId: string | null;
  userId: string;
  entryId: string;
  messageType: string;
  url: string;
  status: Exclude<SendStatus, 'pending'>;
  reason: SendReason | null;
  attempts: SendAttempt[];
  /** When this try began (the first attempt, or the decision to skip). */
  createdAt: Date;
  completedAt: Date;
}

export interface SendsRepository {
  ensureIndexes(): Promise<void>;
  /**
   * Records a batch's messages in one unordered insert (FerretDB writes it in one transaction, MongoDB in one
   * command). A message already recorded by a racing try keeps its record, unless this one is `sent` and that one is
   * not: `sent` wins, the message did go out. Returns the ids of the messages a racing try had recorded already.
   */
  recordMany(records: readonly SendRecord[]): Promise<string[]>;
  get(messageId: string): Promise<Send | null>;
  /** The records of these messages that exist, in one query by key. */
  getMany(messageIds: readonly string[]): Promise<Send[]>;
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

    async recordMany(records) {
      if (records.length === 0) return [];
      const docs: SendDocument[] = records.map(({ messageId, attempts, ...fields }) => ({ _id: messageId, ...fields, attempts: attempts.map(attemptDocument) }));
      try {
        // Plain inserts, not conditional upserts: a unique `_id` is what every server (FerretDB too) enforces atomically.
        await sends.insertMany(docs, { ordered: false });
        return [];
      } catch (error) {
        if (!(error instanceof MongoBulkWriteError)) throw error;
        const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
        if (writeErrors.length === 0 || writeErrors.some((writeError) => writeError.code !== 11000)) throw error;
        const taken = writeErrors.map((writeError) => docs[writeError.index]!);
        await Promise.all(
          taken
            .filter((doc) => doc.status === 'sent')
            .map((doc) =>
              sends.updateOne({ _id: doc._id, status: { $ne: 'sent' } }, { $set: { status: 'sent', reason: null, attempts: doc.attempts, completedAt: doc.completedAt } }),
            ),
        );
        return taken.map((doc) => doc._id);
      }
    },

    async get(messageId) {
      const doc = await sends.findOne({ _id: messageId });
      return doc ? toSend(doc) : null;
    },

    async getMany(messageIds) {
      if (messageIds.length === 0) return [];
      const docs = await sends.find({ _id: { $in: [...messageIds] } }).toArray();
      return docs.map(toSend);
    },

    async recentSendsForUser(userId, since) {
      const docs = await sends.find({ userId, completedAt: { $gt: since }, status: 'sent' }).sort({ completedAt: 1 }).toArray();
      return docs.map(toSend);
    },
  };
}
