import { randomBytes } from 'node:crypto';
import { pastScheduleIssues, unstorableIssues, validateJourney, type JourneyDefinition } from '@journey/core';
import type { Db, Filter } from 'mongodb';
import { decodeCursor, encodeCursor } from './journey-cursor.js';
import {
  draftEntry,
  JOURNEYS,
  JourneyDocumentSchema,
  JourneySummaryDocumentSchema,
  publishedEntry,
  readDocument,
  toJourney,
  VERSIONS,
  VersionDocumentSchema,
  versionId,
  type JourneyDocumentWrite,
  type VersionDocument,
} from './journey-documents.js';
import type {
  Journey,
  JourneyStatus,
  JourneySummary,
  JourneyVersion,
  JourneyVersionEntry,
  JourneyWriteResult,
  ListJourneysQuery,
  WriteOptions,
} from './journey.js';
import { isDuplicateKeyError } from './store-errors.js';

export interface JourneysRepository {
  /** Idempotent: safe on every start. */
  ensureIndexes(): Promise<void>;
  /** Stores a new journey whose draft (version 1) is `definition`. */
  create(definition: JourneyDefinition): Promise<JourneyWriteResult>;
  get(id: string): Promise<Journey | null>;
  /** Newest first. */
  list(query: ListJourneysQuery): Promise<{ journeys: JourneySummary[]; nextCursor: string | null }>;
  /** The journey and every version: published ones oldest first, then the pending draft. */
  history(id: string): Promise<{ journey: Journey; versions: JourneyVersionEntry[] } | null>;
  /** A published version or the pending draft, as in `history`. */
  versionEntry(id: string, version: number): Promise<{ journey: Journey; entry: JourneyVersionEntry } | null>;
  /** A published version, for the engine; null for drafts, unknown journeys and unpublished numbers. */
  findPublishedVersion(id: string, version: number): Promise<JourneyVersion | null>;
  /** Replaces the draft, or opens draft version `latestVersion + 1` when the journey has none. Not on archived journeys. */
  saveDraft(id: string, definition: JourneyDefinition, options?: WriteOptions): Promise<JourneyWriteResult>;
  /** Validates the draft, freezes it as a version and makes it the active one; the journey becomes active. */
  publish(id: string, options?: WriteOptions): Promise<JourneyWriteResult>;
  pause(id: string, options?: WriteOptions): Promise<JourneyWriteResult>;
  resume(id: string, options?: WriteOptions): Promise<JourneyWriteResult>;
  /** Terminal: from draft, active or paused. */
  archive(id: string, options?: WriteOptions): Promise<JourneyWriteResult>;
  /**
   * Deletes a draft or archived journey and its versions; returns the journey as it was (the caller removes what
   * other stores hold of it). An active or paused one is a conflict: archive it first.
   */
  remove(id: string, options?: WriteOptions): Promise<JourneyWriteResult>;
}

export interface JourneysRepositoryOptions {
  /** Milliseconds since the epoch; tests inject a clock instead of waiting. */
  now?: () => number;
}

const notFound = (id: string): JourneyWriteResult => ({ ok: false, reason: 'not_found', message: `Journey ${id} not found` });
const conflict = (message: string): JourneyWriteResult => ({ ok: false, reason: 'conflict', message });
const lostRace = (id: string, revision: number): JourneyWriteResult =>
  conflict(
    `Journey ${id} was changed by another request while this one ran (it is no longer at revision ${revision}); read it again and retry`,
  );

/** The moves that only change the status, and the statuses each may start from. */
const STATUS_MOVES = {
  pause: { from: ['active'], to: 'paused', rule: 'only an active journey can be paused' },
  resume: { from: ['paused'], to: 'active', rule: 'only a paused journey can be resumed' },
  archive: { from: ['draft', 'active', 'paused'], to: 'archived', rule: 'an archived journey is final' },
} as const satisfies Record<string, { from: readonly JourneyStatus[]; to: JourneyStatus; rule: string }>;

/**
 * Journeys and their versions without multi-document transactions. Every state change is ONE conditional write
 * on the journey document: the filter carries the revision the change was computed from and the update
 * increments it, so of two racing writers exactly one wins and the other gets a conflict. The editable draft
 * lives inside the journey document for that reason. Published versions live in `journey_versions` and never
 * change once the journey refers to them.
 */
export function createJourneysRepository(db: Db, options: JourneysRepositoryOptions = {}): JourneysRepository {
  const journeys = db.collection<JourneyDocumentWrite>(JOURNEYS);
  const versions = db.collection<VersionDocument>(VERSIONS);
  const now = () => new Date((options.now ?? Date.now)());

  async function get(id: string): Promise<Journey | null> {
    const stored = await journeys.findOne({ _id: id });
    return stored ? toJourney(readDocument(JourneyDocumentSchema, JOURNEYS, stored)) : null;
  }

  function toVersion(stored: VersionDocument): JourneyVersion {
    const { journeyId, version, definition, publishedAt } = readDocument(VersionDocumentSchema, VERSIONS, stored);
    return { journeyId, version, definition, publishedAt };
  }

  /** A published version of `journey`; a leftover of a lost publish race is not a version until the journey refers to it. */
  async function findPublished(journey: Journey, version: number): Promise<JourneyVersion | null> {
    if (version > journey.latestVersion) return null;
    const stored = await versions.findOne({ _id: versionId(journey.id, version) });
    return stored ? toVersion(stored) : null;
  }

  async function publishedVersions(journey: Journey): Promise<JourneyVersion[]> {
    // Versions above latestVersion are leftovers of a publish that lost its race: not part of the history.
    const stored = await versions
      .find({ journeyId: journey.id, version: { $lte: journey.latestVersion } })
      .sort({ version: 1 })
      .toArray();
    return stored.map(toVersion);
  }

  /** Reads the journey and checks the caller's expected revision: the common start of every change. */
  async function load(
    id: string,
    options: WriteOptions,
  ): Promise<{ ok: true; journey: Journey } | Exclude<JourneyWriteResult, { ok: true }>> {
    const journey = await get(id);
    if (!journey) return notFound(id);
    if (options.expectedRevision !== undefined && options.expectedRevision !== journey.revision) {
      return conflict(`Journey ${id} is at revision ${journey.revision}, not ${options.expectedRevision}: read it again and retry`);
    }
    return { ok: true, journey };
  }

  /** The one conditional write: applies `set` only if the journey is still at `basis.revision`. */
  async function compareAndSet(
    basis: Journey,
    set: Partial<Omit<JourneyDocumentWrite, '_id' | 'revision' | 'createdAt'>>,
  ): Promise<JourneyWriteResult> {
    const updated = await journeys.findOneAndUpdate(
      { _id: basis.id, revision: basis.revision },
      { $set: { ...set, updatedAt: now() }, $inc: { revision: 1 } },
      { returnDocument: 'after' },
    );
    if (!updated) return lostRace(basis.id, basis.revision);
    return { ok: true, journey: toJourney(readDocument(JourneyDocumentSchema, JOURNEYS, updated)) };
  }

  function refuseUnstorable(definition: JourneyDefinition): JourneyWriteResult | null {
    const issues = unstorableIssues(definition);
    return issues.length > 0 ? { ok: false, reason: 'invalid', message: 'Invalid journey', issues } : null;
  }

  async function move(id: string, name: keyof typeof STATUS_MOVES, options: WriteOptions): Promise<JourneyWriteResult> {
    const loaded = await load(id, options);
    if (!loaded.ok) return loaded;
    const { journey } = loaded;
    const { from, to, rule } = STATUS_MOVES[name];
    if (!(from as readonly JourneyStatus[]).includes(journey.status)) {
      return conflict(`Cannot ${name} journey ${id}: it is ${journey.status}, and ${rule}`);
    }
    return compareAndSet(journey, { status: to });
  }

  async function saveDraft(id: string, definition: JourneyDefinition, options: WriteOptions): Promise<JourneyWriteResult> {
    const loaded = await load(id, options);
    if (!loaded.ok) return loaded;
    const { journey } = loaded;
    if (journey.status === 'archived') return conflict(`Cannot edit journey ${id}: it is archived, and an archived journey is final`);
    // An active or paused journey keeps running its activeVersion; the edit becomes (or replaces) the next version.
    const version = journey.draft?.version ?? journey.latestVersion + 1;
    return compareAndSet(journey, { name: definition.name, draft: { version, definition, updatedAt: now() } });
  }

  async function remove(id: string, options: WriteOptions = {}): Promise<JourneyWriteResult> {
    const loaded = await load(id, options);
    if (!loaded.ok) return loaded;
    const { journey } = loaded;
    if (journey.status !== 'draft' && journey.status !== 'archived') {
      return conflict(
        `Cannot delete journey ${id}: it is ${journey.status}; only a draft or archived journey can be deleted (archive it first)`,
      );
    }
    // Conditional on the revision read: a journey published meanwhile is not deleted.
    const deleted = await journeys.deleteOne({ _id: id, revision: journey.revision, status: { $in: ['draft', 'archived'] } });
    if (deleted.deletedCount !== 1) return lostRace(id, journey.revision);
    await versions.deleteMany({ journeyId: id });
    return { ok: true, journey };
  }

  async function publish(id: string, options: WriteOptions = {}): Promise<JourneyWriteResult> {
    const loaded = await load(id, options);
    if (!loaded.ok) return loaded;
    const { journey } = loaded;
    if (journey.status === 'archived') return conflict(`Cannot publish journey ${id}: it is archived, and an archived journey is final`);
    if (!journey.draft) {
      return conflict(`Cannot publish journey ${id}: it is ${journey.status} and has no draft; PUT a new definition first`);
    }
    const validation = validateJourney(journey.draft.definition);
    if (!validation.ok) return { ok: false, reason: 'invalid', message: `Journey ${id} has an invalid draft`, issues: validation.issues };
    const past = pastScheduleIssues(validation.journey, now().getTime());
    if (past.length > 0) return { ok: false, reason: 'invalid', message: `Journey ${id} cannot be published`, issues: past };
    const refused = refuseUnstorable(validation.journey);
    if (refused) return refused;

    // (1) Freeze the draft as its version. The filter lets this overwrite only a leftover written from an
    // older or the same revision (same revision = same draft): a leftover is never referenced, because the
    // journey only refers to a version through step (2), which succeeds only at the revision it was built
    // from. A stale publisher finds a newer leftover, its upsert hits the duplicate _id, and it stops here.
    const version = journey.draft.version;
    try {
      await versions.replaceOne(
        { _id: versionId(id, version), journeyRevision: { $lte: journey.revision } },
        { journeyId: id, version, definition: validation.journey, journeyRevision: journey.revision, publishedAt: now() },
        { upsert: true },
      );
    } catch (error) {
      if (isDuplicateKeyError(error)) return lostRace(id, journey.revision);
      throw error;
    }
    // (2) Point the journey at it, in one conditional write.
    return compareAndSet(journey, {
      status: 'active',
      activeVersion: version,
      latestVersion: version,
      draft: null,
      name: validation.journey.name,
    });
  }

  return {
    async ensureIndexes() {
      await journeys.createIndex({ createdAt: -1, _id: -1 }, { name: 'createdAt_id' });
      await journeys.createIndex({ status: 1, createdAt: -1, _id: -1 }, { name: 'status_createdAt_id' });
      await versions.createIndex({ journeyId: 1, version: 1 }, { unique: true, name: 'journeyId_version_unique' });
    },

    async create(definition) {
      const refused = refuseUnstorable(definition);
      if (refused) return refused;
      const at = now();
      const doc: JourneyDocumentWrite = {
        _id: `jrn_${randomBytes(10).toString('hex')}`,
        name: definition.name,
        status: 'draft',
        activeVersion: null,
        draft: { version: 1, definition, updatedAt: at },
        latestVersion: 0,
        revision: 1,
        createdAt: at,
        updatedAt: at,
      };
      await journeys.insertOne(doc);
      return { ok: true, journey: toJourney(readDocument(JourneyDocumentSchema, JOURNEYS, doc)) };
    },

    get,

    async list({ status, limit, cursor }) {
      const filter: Filter<JourneyDocumentWrite> = status ? { status } : {};
      if (cursor !== undefined) {
        const after = decodeCursor(cursor);
        if (!after) throw new TypeError(`list: invalid cursor ${JSON.stringify(cursor)}; check it with JourneyCursorSchema`);
        filter.$or = [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, _id: { $lt: after.id } }];
      }
      const stored = await journeys
        .find(filter, { projection: { 'draft.definition': 0 } })
        .sort({ createdAt: -1, _id: -1 })
        .limit(limit + 1)
        .toArray();
      const page = stored.slice(0, limit).map((doc) => {
        const { _id, draft, ...rest } = readDocument(JourneySummaryDocumentSchema, JOURNEYS, doc);
        return { id: _id, ...rest, draftVersion: draft?.version ?? null };
      });
      const last = page.at(-1);
      return { journeys: page, nextCursor: stored.length > limit && last ? encodeCursor(last) : null };
    },

    async history(id) {
      const journey = await get(id);
      if (!journey) return null;
      const entries = (await publishedVersions(journey)).map((version) => publishedEntry(journey, version));
      if (journey.draft) entries.push(draftEntry(journey.draft));
      return { journey, versions: entries };
    },

    async versionEntry(id, version) {
      const journey = await get(id);
      if (!journey) return null;
      if (journey.draft?.version === version) return { journey, entry: draftEntry(journey.draft) };
      const published = await findPublished(journey, version);
      return published ? { journey, entry: publishedEntry(journey, published) } : null;
    },

    async findPublishedVersion(id, version) {
      const journey = await get(id);
      return journey ? findPublished(journey, version) : null;
    },

    async saveDraft(id, definition, options = {}) {
      const refused = refuseUnstorable(definition);
      if (refused) return refused;
      return saveDraft(id, definition, options);
    },
    publish,
    pause: (id, options = {}) => move(id, 'pause', options),
    resume: (id, options = {}) => move(id, 'resume', options),
    archive: (id, options = {}) => move(id, 'archive', options),
    remove,
  };
}
