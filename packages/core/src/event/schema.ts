import { z } from 'zod';
import { formatBytes } from '../data/json-size.js';
import { JsonObjectSchema } from '../data/json.js';
import { atMostBytes, atMostEntries, EVENT_LIMITS } from '../data/limits.js';
import { withoutLoneSurrogates } from '../data/storable.js';

/**
 * A user id as apps send it. `|` is reserved: it separates the fields of a due-set member in Redis, and
 * keeping ids free of it keeps those members compact (no escaping). Control characters are refused too.
 */
export const UserIdSchema = withoutLoneSurrogates(
  z
    .string()
    .min(1, 'must not be empty')
    .max(128, 'must be at most 128 characters')
    // eslint-disable-next-line no-control-regex -- refusing control characters is the point
    .regex(/^[^|\u0000-\u001f\u007f]+$/, 'must not contain "|" or control characters'),
).meta({ id: 'UserId', description: 'The app\'s id for the user (1-128 characters, no "|").', examples: ['user-42'] });

/** The longest event name: events are matched to journeys by name, so journeys name events within it too. */
export const MAX_EVENT_NAME_LENGTH = 128;

/** An app's event id, used for de-duplication. */
export const EventIdSchema = withoutLoneSurrogates(z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters')).meta({
  description: 'Your id for the event: an event id posted twice (within the de-duplication window) is processed once.',
});

/** A user event as apps post it (`POST /v1/events`). */
export const UserEventInputSchema = z
  .strictObject({
    id: EventIdSchema.optional(),
    userId: UserIdSchema,
    name: withoutLoneSurrogates(
      z.string().min(1, 'must not be empty').max(MAX_EVENT_NAME_LENGTH, `must be at most ${MAX_EVENT_NAME_LENGTH} characters`),
    ),
    time: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date-time with Z or an offset' }).optional(),
    properties: atMostBytes(atMostEntries(JsonObjectSchema, EVENT_LIMITS.properties, 'properties'), EVENT_LIMITS.propertiesBytes)
      .describe(`Any JSON object: at most ${EVENT_LIMITS.properties} properties and ${formatBytes(EVENT_LIMITS.propertiesBytes)} as JSON`)
      .optional(),
  })
  .meta({
    id: 'UserEvent',
    description:
      'One user event. Without `id` the engine assigns one (and cannot de-duplicate it); without `time`, the time it was accepted.',
    examples: [
      { id: 'evt-1001', userId: 'user-42', name: 'purchased', time: '2026-11-22T09:30:00Z', properties: { item: 'T-shirt', price: 19.5 } },
    ],
  });

export type UserEventInput = z.infer<typeof UserEventInputSchema>;

/**
 * What the event partitions carry, in the order the app sent it: every change to a user's journeys goes
 * through the user's partition, so one worker applies them in order (docs/architecture.md).
 */
export const IngestRecordSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('event'),
    id: z.string().min(1),
    userId: UserIdSchema,
    name: z.string().min(1),
    /** Epoch ms the event happened (the app's `time`, else when it was accepted). */
    time: z.number().int(),
    properties: JsonObjectSchema,
  }),
  z.strictObject({ type: z.literal('attributes'), id: z.string().min(1), userId: UserIdSchema, time: z.number().int() }),
  z.strictObject({
    type: z.literal('enter'),
    id: z.string().min(1),
    userId: UserIdSchema,
    journeyId: z.string().min(1),
    time: z.number().int(),
    /** The entry's properties, read as `event.*` by templates and `prop` filters. */
    properties: JsonObjectSchema.optional(),
    /** The caller's id for the entry: the entry id derives from it, so sending it again finds the same entry. */
    entryKey: z.string().min(1).optional(),
  }),
  /** The user was erased: everything the engine holds of them goes, and their earlier records are not applied. */
  z.strictObject({ type: z.literal('erase'), id: z.string().min(1), userId: UserIdSchema, time: z.number().int() }),
]);

export type IngestRecord = z.infer<typeof IngestRecordSchema>;
