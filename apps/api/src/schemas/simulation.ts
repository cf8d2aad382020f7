import {
  FilterSchema,
  isWithinMaxDuration,
  JsonObjectSchema,
  JsonValueSchema,
  MAX_DURATION_ISO,
  MAX_EVENT_NAME_LENGTH,
  parseIsoDuration,
  SEND_REASONS,
  UserIdSchema,
  withoutLoneSurrogates,
} from '@journey/core';
import { z } from 'zod';
import { EntryPropertiesSchema } from './entries.js';
import { JourneyParamsSchema } from './journeys.js';
import { AttributesSchema, MessageTypeSchema } from './users.js';

/** Users one simulation call may try at once. */
export const MAX_SIMULATED_USERS = 1000;
/** Events of one simulated timeline. */
export const MAX_SIMULATED_EVENTS = 100;

const IsoTimeSchema = z.iso.datetime().meta({ examples: ['2026-11-23T12:00:00.000Z'] });

/** A duration from the entry, zero included (an event at the very moment of entry). */
const OffsetSchema = z
  .string()
  .refine((value) => parseIsoDuration(value) !== null, 'must be an ISO 8601 duration such as "PT0S", "PT2H" or "P1D"')
  .refine((value) => parseIsoDuration(value) === null || isWithinMaxDuration(value), `must be at most ${MAX_DURATION_ISO}`);

export const VersionChoiceSchema = z
  .union([z.literal('draft'), z.number().int().positive()])
  .describe('The version to try: a published version, or "draft" (default: the active one, else the latest published, else the draft)');

const SimulatedUserSchema = z
  .strictObject({
    userId: UserIdSchema.optional().describe(
      'A stored user: their attributes and mutes are used where this object does not give them. Default "simulated-user".',
    ),
    attributes: AttributesSchema.optional().describe(
      'The attributes to simulate with (`timezone` places quiet hours and wall-clock delays)',
    ),
    muted: z.array(MessageTypeSchema).max(100).optional().describe('Message types the user muted'),
    entryId: z
      .string()
      .regex(/^[0-9a-z]{12}$/, 'must be an entry id: 12 lowercase letters or digits')
      .optional()
      .describe("Simulate this entry id (a real entry's, to compare with it): experiment variants and message ids derive from it"),
  })
  .meta({ id: 'SimulatedUser' });

const SimulatedEventSchema = z
  .strictObject({
    after: OffsetSchema.describe('When, after the entry (ISO 8601 duration, "PT0S" at the entry)'),
    name: withoutLoneSurrogates(z.string().min(1, 'must not be empty').max(MAX_EVENT_NAME_LENGTH)),
    properties: EntryPropertiesSchema.default({}),
  })
  .meta({ id: 'SimulatedEvent' });

export const SimulationRequestSchema = z
  .strictObject({
    version: VersionChoiceSchema.optional(),
    user: SimulatedUserSchema.optional().describe('One user: the answer is their timeline'),
    users: z
      .array(SimulatedUserSchema)
      .min(1)
      .max(MAX_SIMULATED_USERS)
      .optional()
      .describe(`Up to ${MAX_SIMULATED_USERS} users: the answer is the share of users per path`),
    enteredAt: IsoTimeSchema.optional().describe('When the users enter (default now)'),
    entry: z
      .strictObject({ properties: EntryPropertiesSchema.default({}) })
      .optional()
      .describe("The trigger event's properties (an API entry's properties), read as `{{ event.X }}`"),
    events: z.array(SimulatedEventSchema).max(MAX_SIMULATED_EVENTS).default([]).describe("The users' later events"),
    horizon: OffsetSchema.default('P1Y').describe('How long after the entry simulated time runs; an entry still inside then is `active`'),
  })
  .superRefine((body, ctx) => {
    if ((body.user === undefined) === (body.users === undefined))
      ctx.addIssue({ code: 'custom', path: ['user'], message: 'give either "user" (one timeline) or "users" (shares per path)' });
  })
  .meta({
    id: 'SimulationRequest',
    description: 'A dry run: nothing is sent, stored or counted.',
    examples: [
      {
        user: { attributes: { firstName: 'Ada', country: 'US', plan: 'free', timezone: 'Europe/Paris' } },
        entry: { properties: { source: 'ads' } },
        events: [{ after: 'PT2H', name: 'purchased', properties: { item: 'Tea' } }],
      },
    ],
  });
export type SimulationRequest = z.infer<typeof SimulationRequestSchema>;

const RequestSentSchema = z
  .object({
    method: z.enum(['POST', 'PUT', 'PATCH']),
    url: z.string(),
    headers: z.record(z.string(), z.string()),
    body: z.string().describe('The exact body, as sent'),
  })
  .meta({ id: 'WebhookRequest', description: 'A webhook request exactly as the channel sends it' });

const BranchReasonSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('filter'), filter: FilterSchema.describe("The branch's filter, which the user matched") }),
    z.object({ kind: z.literal('else') }).describe('No branch matched'),
    z.object({
      kind: z.literal('variant'),
      bucket: z.number().describe("The entry's position in [0, 100): variants own slices as wide as their weights"),
      weight: z.number(),
    }),
    z.object({ kind: z.literal('event'), event: z.object({ name: z.string(), properties: JsonObjectSchema }) }),
    z.object({ kind: z.literal('timeout') }).describe('No path event came within the window'),
  ])
  .meta({ id: 'BranchReason' });

const at = IsoTimeSchema;
const TimelineEntrySchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('entered'), at, stepId: z.string() }),
    z.object({ kind: z.literal('step'), at, stepId: z.string(), type: z.string() }),
    z.object({ kind: z.literal('branch'), at, stepId: z.string(), branchId: z.string(), reason: BranchReasonSchema }),
    z.object({ kind: z.literal('wait'), at, stepId: z.string(), until: IsoTimeSchema }),
    z.object({ kind: z.literal('await'), at, stepId: z.string(), deadline: IsoTimeSchema }),
    z.object({ kind: z.literal('quiet_hours'), at, stepId: z.string(), sendAt: IsoTimeSchema.describe('When the message goes instead') }),
    z.object({
      kind: z.literal('message'),
      at,
      stepId: z.string(),
      messageId: z.string(),
      status: z.enum(['sent', 'skipped', 'failed']),
      reason: z.enum(SEND_REASONS).nullable(),
      request: RequestSentSchema.nullable().describe('What would be sent; null when nothing is'),
      error: z.string().nullable(),
    }),
    z.object({
      kind: z.literal('user_update'),
      at,
      stepId: z.string(),
      set: z.record(z.string(), JsonValueSchema),
      unset: z.array(z.string()),
    }),
    z.object({
      kind: z.literal('event'),
      at,
      name: z.string(),
      properties: JsonObjectSchema,
      effects: z.array(z.enum(['converted', 'exited', 'path'])).describe('What the event did: a goal conversion, an exit, an action path'),
    }),
    z.object({ kind: z.literal('fault'), at, stepId: z.string(), error: z.string() }),
    z.object({ kind: z.literal('end'), at, status: z.enum(['completed', 'exited']), stepId: z.string().nullable() }),
  ])
  .meta({ id: 'TimelineEntry' });

const EndSchema = z.object({
  status: z.enum(['completed', 'exited', 'active']).describe('`active`: still inside when simulated time ended'),
  at: IsoTimeSchema,
  stepId: z.string().nullable().describe('The step it ended at (or is at, while active)'),
});

const NotEnteredSchema = z
  .enum(['trigger', 'audience', 'exit'])
  .describe("Why the user would not enter: the trigger's `where`, the audience, or the exit criteria the user matches at entry");

export const EntrySimulationSchema = z
  .object({
    version: VersionChoiceSchema,
    userId: z.string(),
    entered: z.boolean(),
    notEntered: NotEnteredSchema.nullable(),
    entryId: z.string().nullable(),
    timeline: z.array(TimelineEntrySchema),
    path: z.array(z.string()).describe('Steps reached and branches taken (`step:branch`), in order'),
    end: EndSchema.nullable(),
    convertedAt: IsoTimeSchema.nullable(),
    attributes: z.record(z.string(), JsonValueSchema).describe('The attributes at the end (after any user_update)'),
  })
  .meta({ id: 'EntrySimulation' });

export const AudienceSimulationSchema = z
  .object({
    version: VersionChoiceSchema,
    users: z.number().int(),
    entered: z.number().int(),
    notEntered: z.record(NotEnteredSchema, z.number().int()),
    paths: z.array(
      z.object({
        path: z.array(z.string()),
        end: EndSchema.shape.status,
        users: z.number().int(),
        share: z.number().describe('Of the users who entered, 0-1'),
      }),
    ),
    ends: z.record(EndSchema.shape.status, z.number().int()),
    converted: z.number().int(),
    messages: z.record(z.string(), z.object({ sent: z.number().int(), skipped: z.number().int(), failed: z.number().int() })),
  })
  .meta({ id: 'AudienceSimulation' });

export const TestSendRequestSchema = z
  .strictObject({
    version: VersionChoiceSchema.optional(),
    userId: UserIdSchema.optional().describe('A stored user, whose attributes render the message where `attributes` does not give them'),
    attributes: AttributesSchema.optional(),
    properties: EntryPropertiesSchema.default({}).describe('Read as `{{ event.X }}`'),
    url: z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
      .max(2048)
      .optional()
      .describe("Deliver here instead of the step's own URL"),
  })
  .meta({
    id: 'TestSendRequest',
    examples: [{ attributes: { firstName: 'Ada' }, properties: { coupon: 'X1' }, url: 'https://example.com/hooks/test' }],
  });
export type TestSendRequest = z.infer<typeof TestSendRequestSchema>;

export const TestSendParamsSchema = JourneyParamsSchema.extend({
  stepId: z.string().min(1).max(64).describe('A message step of the version'),
});

export const TestSendResultSchema = z
  .object({
    delivered: z.boolean().describe('The receiver answered 2xx'),
    request: RequestSentSchema,
    response: z.object({
      outcome: z.enum(['ok', 'http_error', 'timeout', 'network_error', 'invalid_url']),
      status: z.number().int().nullable(),
      durationMs: z.number(),
      error: z.string().nullable(),
    }),
  })
  .meta({ id: 'TestSendResult' });
