import type { JourneyDefinition, JsonObject, ValidationIssue } from '@journey/core';
import { z } from 'zod';

/** A journey as the engine and the API see it: its status, versions and draft. Stored by the journeys repository. */

export const JOURNEY_STATUSES = ['draft', 'active', 'paused', 'archived'] as const;
export const JourneyStatusSchema = z.enum(JOURNEY_STATUSES);
export type JourneyStatus = z.infer<typeof JourneyStatusSchema>;

/**
 * How a version relates to the journey now: `draft` is the pending, editable version; `active` the one new
 * entries use while the journey runs; `published` that same version while the journey is paused or archived;
 * `superseded` an older published version (users who entered on it still finish on it).
 */
export const JOURNEY_VERSION_STATUSES = ['draft', 'active', 'published', 'superseded'] as const;
export type JourneyVersionStatus = (typeof JOURNEY_VERSION_STATUSES)[number];

const JOURNEY_ID_PATTERN = /^jrn_[0-9a-f]{20}$/;
export const JourneyIdSchema = z.string().regex(JOURNEY_ID_PATTERN, 'must be a journey id like "jrn_0123456789abcdef0123"');

export interface JourneyDraft {
  version: number;
  /** As last saved: it was valid then, and is validated again when published. */
  definition: JsonObject;
  updatedAt: Date;
}

export interface Journey {
  id: string;
  /** The name of the latest saved definition (the draft's, while there is one). */
  name: string;
  status: JourneyStatus;
  /** The version new entries use; null until the first publish. */
  activeVersion: number | null;
  /** The highest published version, 0 before the first publish; a new draft is always `latestVersion + 1`. */
  latestVersion: number;
  draft: JourneyDraft | null;
  /** Incremented by every write: the optimistic-concurrency token (`If-Match` / `ETag` at the HTTP edge). */
  revision: number;
  createdAt: Date;
  updatedAt: Date;
}

/** A journey without its draft's definition: what lists show. */
export type JourneySummary = Omit<Journey, 'draft'> & { draftVersion: number | null };

/** A published, immutable version: what the engine runs. */
export interface JourneyVersion {
  journeyId: string;
  version: number;
  definition: JourneyDefinition;
  publishedAt: Date;
}

/** One line of a journey's history: a published version or the pending draft. */
export interface JourneyVersionEntry {
  version: number;
  status: JourneyVersionStatus;
  definition: JourneyDefinition | JsonObject;
  /** null for the draft. */
  publishedAt: Date | null;
  updatedAt: Date;
}

/** Expected misses come back as values; the HTTP edge maps them to 404 / 409 / 400. */
export type JourneyWriteResult =
  | { ok: true; journey: Journey }
  | { ok: false; reason: 'not_found'; message: string }
  | { ok: false; reason: 'conflict'; message: string }
  | { ok: false; reason: 'invalid'; message: string; issues: ValidationIssue[] };

export interface WriteOptions {
  /** The revision the caller based the change on; a different current revision is a conflict. */
  expectedRevision?: number;
}

export interface ListJourneysQuery {
  status?: JourneyStatus;
  limit: number;
  /** A `nextCursor` from an earlier page; check it with `JourneyCursorSchema` first. */
  cursor?: string;
}
