import {
  atMostBytes,
  atMostEntries,
  EVENT_LIMITS,
  EventIdSchema,
  formatBytes,
  JsonObjectSchema,
  unstorableIssues,
  UserIdSchema,
} from '@journey/core';
import { z } from 'zod';

export const MAX_ENTRIES_PER_REQUEST = 1000;

export const EntryPropertiesSchema = atMostBytes(
  atMostEntries(JsonObjectSchema, EVENT_LIMITS.properties, 'properties'),
  EVENT_LIMITS.propertiesBytes,
)
  .superRefine((properties, ctx) => {
    // They travel through Redis into the entry's state in MongoDB: what it cannot store is a 400 here.
    for (const issue of unstorableIssues(properties))
      ctx.addIssue({ code: 'custom', path: issue.path.split('.').filter(Boolean), message: issue.message });
  })
  .describe(
    `Read by the journey's templates as \`{{ event.X }}\` and by \`prop\` filters of its audience: at most ${EVENT_LIMITS.properties} ` +
      `properties and ${formatBytes(EVENT_LIMITS.propertiesBytes)} as JSON`,
  );

export const EntrySchema = z
  .strictObject({
    userId: UserIdSchema,
    properties: EntryPropertiesSchema.optional(),
    id: EventIdSchema.optional().describe(
      'Your id for this entry: sent again (a retried request), it enters the user once. The entry id derives from it.',
    ),
  })
  .meta({ id: 'Entry', examples: [{ userId: 'user-42', properties: { coupon: 'X1' }, id: 'spring-sale-user-42' }] });

/** One object with either list, so a problem is reported at its field (a union would only say "invalid input"). */
export const EntriesRequestSchema = z
  .strictObject({
    entries: z
      .array(EntrySchema)
      .min(1, 'name at least one entry')
      .max(MAX_ENTRIES_PER_REQUEST, `may hold at most ${MAX_ENTRIES_PER_REQUEST} entries per request`)
      .optional(),
    userIds: z
      .array(UserIdSchema)
      .min(1, 'name at least one user')
      .max(MAX_ENTRIES_PER_REQUEST, `may name at most ${MAX_ENTRIES_PER_REQUEST} users per request`)
      .optional()
      .describe('Users to enter, without properties (instead of `entries`); a user named twice is entered once'),
  })
  .superRefine((body, ctx) => {
    if (body.entries === undefined && body.userIds === undefined)
      ctx.addIssue({ code: 'custom', path: ['entries'], message: 'is required: a list of { userId, properties?, id? } (or "userIds")' });
    if (body.entries !== undefined && body.userIds !== undefined)
      ctx.addIssue({ code: 'custom', path: ['userIds'], message: 'goes without "entries": send one of the two' });
  })
  .meta({
    id: 'EntriesRequest',
    description: `\`{ "entries": [...] }\` (1 to ${MAX_ENTRIES_PER_REQUEST}, each with its properties), or \`{ "userIds": [...] }\`.`,
    examples: [{ entries: [{ userId: 'user-42', properties: { coupon: 'X1' }, id: 'sale-42' }] }, { userIds: ['user-42', 'user-7'] }],
  })
  .transform((body): Array<z.infer<typeof EntrySchema>> => body.entries ?? [...new Set(body.userIds ?? [])].map((userId) => ({ userId })));

export const EntriesAcceptedSchema = z
  .object({
    accepted: z.number().int().nonnegative().describe('Entry requests durable now'),
    duplicates: z
      .number()
      .int()
      .nonnegative()
      .describe('Entries whose `id` was sent before (within the de-duplication window): not entered again'),
  })
  .meta({
    id: 'EntriesAccepted',
    description:
      'Each user is entered when the engine applies the request, in order with their events: a user already inside ' +
      'the journey, or whom its `reentry` rule keeps out, is not entered again.',
    examples: [{ accepted: 2, duplicates: 0 }],
  });
