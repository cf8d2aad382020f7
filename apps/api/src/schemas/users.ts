import {
  atMostBytes,
  atMostEntries,
  formatBytes,
  JsonValueSchema,
  MessageStepSchema,
  unstorableIssues,
  USER_LIMITS,
  UserIdSchema,
  withoutLoneSurrogates,
} from '@journey/core';
import { AttributeNameSchema, JourneyStateStatusSchema, MessageStatusSchema, SendReasonSchema } from '@journey/mongo';
import { z } from 'zod';

const CREATED = '2026-11-20T08:00:00.000Z';
const UPDATED = '2026-11-22T09:30:00.000Z';
const IsoTimeSchema = z.iso.datetime().meta({ examples: [UPDATED] });

/** A message type, with the same rules as a message step's `messageType`. */
export const MessageTypeSchema = withoutLoneSurrogates(MessageStepSchema.shape.messageType)
  .describe("A message step's `messageType`")
  .meta({ examples: ['promo'] });

// No component id here (@fastify/swagger expands params into OpenAPI parameters and cannot follow a $ref), so the
// field is a plain string documented here and then checked by the core's UserIdSchema (which has a component id).
export const UserParamsSchema = z.strictObject({
  userId: z
    .string()
    .pipe(UserIdSchema)
    .describe('The app\'s id for the user (1-128 characters, no "|" or control characters); URL-encode it in the path')
    .meta({ examples: ['user-42'] }),
});

export const AttributesSchema = atMostEntries(
  z.record(AttributeNameSchema, atMostBytes(JsonValueSchema, USER_LIMITS.attributeValueBytes), {
    error: (issue) =>
      issue.code === 'invalid_key' ? `is not a valid attribute name: ${issue.issues[0]?.message ?? 'invalid'}` : undefined,
  }),
  USER_LIMITS.attributes,
  'attributes',
).describe(
  `Attribute name -> any JSON value of at most ${formatBytes(USER_LIMITS.attributeValueBytes)} as JSON; \`null\` removes the attribute. ` +
    `A user holds at most ${USER_LIMITS.attributes} attributes.`,
);

export const UpsertUserBodySchema = z
  .strictObject({ attributes: AttributesSchema })
  .superRefine((body, ctx) => {
    // Values become MongoDB fields: names it refuses and nesting it cannot store are a 400, never a failed write.
    for (const issue of unstorableIssues(body)) ctx.addIssue({ code: 'custom', path: [issue.path], message: issue.message });
  })
  .meta({
    id: 'UpsertUserRequest',
    description: 'Merged into the stored attributes: attributes not named stay as they are.',
    examples: [{ attributes: { firstName: 'Ada', plan: 'pro', country: 'US', trialEndsAt: null } }],
  });

export const UserSchema = z
  .object({
    userId: z.string(),
    attributes: z.record(z.string(), JsonValueSchema),
    createdAt: IsoTimeSchema,
    updatedAt: IsoTimeSchema,
  })
  .meta({
    id: 'User',
    examples: [{ userId: 'user-42', attributes: { firstName: 'Ada', plan: 'pro', country: 'US' }, createdAt: CREATED, updatedAt: UPDATED }],
  });
export type UserBody = z.infer<typeof UserSchema>;

const EntryMessageSchema = z
  .object({
    status: MessageStatusSchema.describe(
      'sent: delivered; failed: refused by the receiver, or not taken within the retry window; skipped: not sent on purpose; retrying: the receiver did not take it yet',
    ),
    reason: SendReasonSchema.nullable().describe('Why it was not sent (failed or skipped); null otherwise'),
    attempts: z.number().int().nonnegative().describe('HTTP tries so far; 0 for a skip'),
    visit: z
      .number()
      .int()
      .positive()
      .describe('Which visit of the step in this entry (a loop visits a step again, each visit with a message of its own)'),
    completedAt: IsoTimeSchema.nullable().describe('When it ended; null while retrying'),
    nextAttemptAt: IsoTimeSchema.nullable().describe('While retrying: when the next attempt is due'),
    lastError: z.string().nullable().describe('What the last failed attempt saw'),
  })
  .meta({ id: 'EntryMessage' });

const UserJourneyStateSchema = z
  .object({
    journeyId: z.string(),
    version: z.number().int().positive().describe('The version the user entered on (and finishes on)'),
    entryId: z.string().describe('The current (or last) entry'),
    status: JourneyStateStatusSchema.describe('active: inside the journey; completed: reached its end; exited: left by an exit criterion'),
    stepId: z.string().nullable().describe('The step the user is at; null once the entry ended'),
    enteredAt: IsoTimeSchema.describe('When the user first entered the journey'),
    lastEnteredAt: IsoTimeSchema.describe('When the current (or last) entry began'),
    entries: z.number().int().positive().describe('How many times the user entered'),
    endedAt: IsoTimeSchema.nullable().describe('When the current entry ended; null while active'),
    messages: z
      .record(z.string(), EntryMessageSchema)
      .describe('How the last visit of each message step of the current (or last) entry stands, by step id'),
  })
  .meta({ id: 'UserJourneyState' });

export const UserProfileSchema = UserSchema.extend({
  subscriptions: z.object({ muted: z.array(z.string()).describe('Muted message types, sorted') }),
  journeys: z.array(UserJourneyStateSchema).describe('One per journey the user ever entered, by journey id'),
}).meta({
  id: 'UserProfile',
  examples: [
    {
      userId: 'user-42',
      attributes: { firstName: 'Ada', plan: 'pro' },
      createdAt: CREATED,
      updatedAt: UPDATED,
      subscriptions: { muted: ['promo'] },
      journeys: [
        {
          journeyId: 'jrn_5f0c3a9e1b7d24c86e01',
          version: 1,
          entryId: '0k3j5x8q2m1a',
          status: 'active',
          stepId: 'wait',
          enteredAt: CREATED,
          lastEnteredAt: CREATED,
          entries: 1,
          endedAt: null,
          messages: {
            welcome: { status: 'sent', reason: null, attempts: 1, visit: 1, completedAt: CREATED, nextAttemptAt: null, lastError: null },
          },
        },
      ],
    },
  ],
});
export type UserProfileBody = z.infer<typeof UserProfileSchema>;

const MAX_TYPES_PER_CHANGE = 100;

export const SubscriptionsChangeSchema = z
  .strictObject({
    muted: z.array(MessageTypeSchema).max(MAX_TYPES_PER_CHANGE).optional().describe('Message types to mute'),
    unmuted: z.array(MessageTypeSchema).max(MAX_TYPES_PER_CHANGE).optional().describe('Message types to unmute'),
  })
  .superRefine(({ muted = [], unmuted = [] }, ctx) => {
    if (muted.length === 0 && unmuted.length === 0) {
      ctx.addIssue({ code: 'custom', path: [], message: 'name at least one message type in `muted` or `unmuted`' });
    }
    unmuted.forEach((type, index) => {
      if (muted.includes(type))
        ctx.addIssue({
          code: 'custom',
          path: ['unmuted', index],
          message: `"${type}" is in \`muted\` too: a type is either muted or unmuted`,
        });
    });
  })
  .meta({
    id: 'SubscriptionsChange',
    description: 'Applied at once (atomically). Muting a muted type or unmuting an unmuted one changes nothing.',
    examples: [{ muted: ['promo'], unmuted: ['onboarding'] }],
  });

export const SubscriptionsSchema = z
  .object({ userId: z.string(), muted: z.array(z.string()).describe('Every muted message type now, sorted') })
  .meta({ id: 'Subscriptions', examples: [{ userId: 'user-42', muted: ['promo'] }] });
