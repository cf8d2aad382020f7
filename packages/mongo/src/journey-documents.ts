import { JourneyDefinitionSchema, JsonObjectSchema, type JourneyDefinition, type JsonObject } from '@journey/core';
import { z } from 'zod';
import {
  JourneyIdSchema,
  JourneyStatusSchema,
  type Journey,
  type JourneyDraft,
  type JourneyVersion,
  type JourneyVersionEntry,
  type JourneyVersionStatus,
} from './journey.js';

/** How journeys and their versions are stored, read back through these schemas (stored documents are input too). */

export const JOURNEYS = 'journeys';
export const VERSIONS = 'journey_versions';

const StoredDraftSchema = z.object({
  version: z.number().int().positive(),
  // Tolerant on purpose: a draft stays readable (and fixable) even if the rules tighten after it was saved.
  definition: JsonObjectSchema,
  updatedAt: z.date(),
});

export const JourneyDocumentSchema = z.object({
  _id: JourneyIdSchema,
  name: z.string(),
  status: JourneyStatusSchema,
  activeVersion: z.number().int().positive().nullable(),
  draft: StoredDraftSchema.nullable(),
  latestVersion: z.number().int().nonnegative(),
  revision: z.number().int().nonnegative(),
  createdAt: z.date(),
  updatedAt: z.date(),
});
export type JourneyDocument = z.infer<typeof JourneyDocumentSchema>;
/** What is written: the same fields, with the draft as validated (a JourneyDefinition is a JSON object). */
export type JourneyDocumentWrite = Omit<JourneyDocument, 'draft'> & {
  draft: { version: number; definition: JourneyDefinition | JsonObject; updatedAt: Date } | null;
};

export const JourneySummaryDocumentSchema = JourneyDocumentSchema.extend({
  draft: StoredDraftSchema.pick({ version: true }).nullable(),
});

export const VersionDocumentSchema = z.object({
  _id: z.string(),
  journeyId: JourneyIdSchema,
  version: z.number().int().positive(),
  // Strict: a published version is what the engine runs.
  definition: JourneyDefinitionSchema,
  /** The journey revision whose draft this was frozen from; guards the overwrite of a leftover (see publish). */
  journeyRevision: z.number().int().nonnegative(),
  publishedAt: z.date(),
});
export interface VersionDocument {
  _id: string;
  journeyId: string;
  version: number;
  definition: JourneyDefinition;
  journeyRevision: number;
  publishedAt: Date;
}

/** A stored document that does not match its schema: a bug or a manual edit, never the client's fault. */
export class CorruptJourneyDocumentError extends Error {
  readonly code = 'CORRUPT_JOURNEY_DOCUMENT';
  constructor(
    readonly collection: string,
    readonly id: unknown,
    readonly issues: z.core.$ZodIssue[],
  ) {
    super(`Stored ${collection} document ${String(id)} is malformed: ${z.prettifyError(new z.ZodError(issues))}`);
    this.name = 'CorruptJourneyDocumentError';
  }
}

export function readDocument<S extends z.ZodType>(schema: S, collection: string, stored: { _id?: unknown }): z.output<S> {
  const parsed = schema.safeParse(stored);
  if (!parsed.success) throw new CorruptJourneyDocumentError(collection, stored._id, parsed.error.issues);
  return parsed.data;
}

export function toJourney(doc: JourneyDocument): Journey {
  const { _id, ...rest } = doc;
  return { id: _id, ...rest };
}

export function versionId(journeyId: string, version: number): string {
  return `${journeyId}:${version}`;
}

function statusOfPublished(journey: Journey, version: number): JourneyVersionStatus {
  if (version !== journey.activeVersion) return 'superseded';
  return journey.status === 'active' ? 'active' : 'published';
}

export function draftEntry(draft: JourneyDraft): JourneyVersionEntry {
  return { version: draft.version, status: 'draft', definition: draft.definition, publishedAt: null, updatedAt: draft.updatedAt };
}

export function publishedEntry(journey: Journey, version: JourneyVersion): JourneyVersionEntry {
  return {
    version: version.version,
    status: statusOfPublished(journey, version.version),
    definition: version.definition,
    publishedAt: version.publishedAt,
    updatedAt: version.publishedAt,
  };
}
