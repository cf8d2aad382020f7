import { exampleJourney } from '@journey/core';
import { JOURNEY_VERSION_STATUSES, JourneyCursorSchema, JourneyIdSchema, JourneyStatusSchema } from '@journey/mongo';
import { z } from 'zod';

const EXAMPLE_ID = 'jrn_5f0c3a9e1b7d24c86e01';
const CREATED = '2025-06-01T09:00:00.000Z';
const PUBLISHED = '2025-06-01T09:30:00.000Z';
const EDITED = '2025-06-02T14:00:00.000Z';

const IsoTimeSchema = z.iso.datetime().meta({ examples: [CREATED] });
const VersionNumberSchema = z.number().int().positive();

export const JourneyIdFieldSchema = JourneyIdSchema.describe('The id `POST /v1/journeys` returned').meta({ examples: [EXAMPLE_ID] });

const StatusSchema = JourneyStatusSchema.describe('draft -> active -> paused -> active -> archived (final)').meta({
  id: 'JourneyStatus',
  examples: ['active'],
});

const RevisionSchema = z
  .number()
  .int()
  .nonnegative()
  .describe('Incremented by every change; sent as the ETag, send it back in If-Match to change only what you read');

/**
 * A definition as stored and shown: the JourneyDefinition document the client sent (with defaults filled in).
 * Not re-checked on the way out, so a saved draft stays readable even if the rules tighten later.
 */
const StoredDefinitionSchema = z.record(z.string(), z.unknown()).meta({
  id: 'StoredJourneyDefinition',
  description: 'A JourneyDefinition as saved (see that schema for its fields), with defaults filled in.',
  examples: [exampleJourney],
});

const summaryExample = {
  id: EXAMPLE_ID,
  name: 'Onboarding',
  status: 'active',
  activeVersion: 1,
  latestVersion: 1,
  draftVersion: 2,
  revision: 4,
  createdAt: CREATED,
  updatedAt: EDITED,
} as const;

export const JourneySummarySchema = z
  .object({
    id: JourneyIdFieldSchema,
    name: z.string().describe("The latest saved definition's name (the draft's, while there is one)"),
    status: StatusSchema,
    activeVersion: VersionNumberSchema.nullable().describe('The version new entries use; null until the first publish'),
    latestVersion: z.number().int().nonnegative().describe('The highest published version; 0 before the first publish'),
    draftVersion: VersionNumberSchema.nullable().describe('The pending draft version, if any'),
    revision: RevisionSchema,
    createdAt: IsoTimeSchema,
    updatedAt: IsoTimeSchema,
  })
  .meta({ id: 'JourneySummary', examples: [summaryExample] });
export type JourneySummaryBody = z.infer<typeof JourneySummarySchema>;

export const JourneyVersionSchema = z
  .object({
    version: VersionNumberSchema,
    status: z
      .enum(JOURNEY_VERSION_STATUSES)
      .describe(
        'draft: pending, editable; active: used by new entries; published: that version while the journey is paused or archived; ' +
          'superseded: an older published version (users who entered on it finish on it)',
      ),
    publishedAt: IsoTimeSchema.nullable().describe('null for the draft'),
    updatedAt: IsoTimeSchema,
    definition: StoredDefinitionSchema,
  })
  .meta({
    id: 'JourneyVersion',
    examples: [{ version: 1, status: 'active', publishedAt: PUBLISHED, updatedAt: PUBLISHED, definition: exampleJourney }],
  });
export type JourneyVersionBody = z.infer<typeof JourneyVersionSchema>;

export const JourneySchema = JourneySummarySchema.extend({
  draft: z
    .object({ version: VersionNumberSchema, updatedAt: IsoTimeSchema, definition: StoredDefinitionSchema })
    .nullable()
    .describe('The pending draft: what PUT replaced and publish will freeze'),
  versions: z.array(JourneyVersionSchema).describe('Every published version, oldest first, then the pending draft'),
}).meta({
  id: 'Journey',
  examples: [
    {
      ...summaryExample,
      draft: { version: 2, updatedAt: EDITED, definition: exampleJourney },
      versions: [
        { version: 1, status: 'active', publishedAt: PUBLISHED, updatedAt: PUBLISHED, definition: exampleJourney },
        { version: 2, status: 'draft', publishedAt: null, updatedAt: EDITED, definition: exampleJourney },
      ],
    },
  ],
});
export type JourneyBody = z.infer<typeof JourneySchema>;

export const CreatedJourneySchema = z
  .object({ id: JourneyIdFieldSchema, version: VersionNumberSchema.describe('The draft version: 1'), status: StatusSchema })
  .meta({ id: 'CreatedJourney', examples: [{ id: EXAMPLE_ID, version: 1, status: 'draft' }] });

export const JourneyListSchema = z
  .object({
    items: z.array(JourneySummarySchema),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page'),
  })
  .meta({ id: 'JourneyList', examples: [{ items: [summaryExample], nextCursor: null }] });

// No component ids on params, query and headers: @fastify/swagger expands them into OpenAPI parameters and
// cannot follow a $ref. Their fields carry the examples.
export const JourneyParamsSchema = z.strictObject({ id: JourneyIdFieldSchema });

export const JourneyVersionParamsSchema = z.strictObject({
  id: JourneyIdFieldSchema,
  version: z.coerce
    .number()
    .int()
    .positive()
    .max(1_000_000)
    .describe('A version number')
    .meta({ examples: [1] }),
});

export const ListJourneysQuerySchema = z.strictObject({
  status: StatusSchema.optional().describe('Only journeys with this status'),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(20)
    .describe('Page size, 1 to 100')
    .meta({ examples: [20] }),
  cursor: JourneyCursorSchema.optional().describe('`nextCursor` of the previous page'),
});

/**
 * `If-Match: <revision>` (also as an ETag, `"3"` or `W/"3"`): the change applies only if the journey is still at
 * that revision, else 409. `*` or no header: the change applies to whatever revision the request reads.
 */
export const IfMatchHeadersSchema = z.looseObject({
  'if-match': z
    .string()
    .trim()
    .regex(/^(\*|(W\/)?"\d{1,15}"|\d{1,15})$/, 'must be a revision, as in the ETag: "3" (or 3, or *)')
    .transform((value) => (value === '*' ? undefined : Number(value.replace(/\D/g, ''))))
    .optional()
    .describe('The revision (ETag) the change is based on')
    .meta({ examples: ['"3"'] }),
});
