import { z } from 'zod';
import { formatBytes } from '../data/json-size.js';
import { MAX_NESTING_DEPTH } from '../data/storable.js';
import { FilterSchema } from '../filter/schema.js';
import { DEFAULT_JOURNEY_ZONE, isValidZone } from '../time/zone.js';
import {
  boundedList,
  discriminatorError,
  EventNameSchema,
  IdSchema,
  IsoDurationSchema,
  NameSchema,
  PayloadSchema,
  ScheduleAtSchema,
  CronSchema,
  AttributeNameSchema,
  HeaderNameSchema,
  StepIdKeySchema,
  StepRefSchema,
  TimeOfDaySchema,
  TimeZoneSchema,
  WebhookUrlSchema,
} from './fields.js';
import { ELSE_BRANCH_ID, TIMEOUT_BRANCH_ID } from './branch-ids.js';
import { JOURNEY_LIMITS } from './limits.js';
import { exampleJourney } from './example.js';
import { checkJourneyGraph } from './graph.js';
import { STEP_TYPES } from './step-types.js';
import {
  checkDelayHasOneTarget,
  checkMessageTemplates,
  checkQuietHoursNotEmpty,
  checkScheduleHasOneTime,
  checkUniqueIds,
  checkUserUpdate,
  checkWeightsSumTo100,
  onAnyObject,
} from './step-rules.js';
import { atMostBytes, USER_LIMITS } from '../data/limits.js';
import { JsonValueSchema } from '../data/json.js';

const HOOK = 'https://example.com/hook';

// ---- entry ------------------------------------------------------------------------------------

export const EventTriggerSchema = z
  .strictObject({
    type: z.literal('event'),
    event: EventNameSchema,
    where: FilterSchema.optional(),
  })
  .meta({ id: 'EventTrigger', description: 'An event with this name (whose properties match `where`) enters the user.' });

export const ApiTriggerSchema = z
  .strictObject({ type: z.literal('api') })
  .meta({ id: 'ApiTrigger', description: 'Users are entered by `POST /v1/journeys/:id/entries`.' });

export const ScheduleTriggerSchema = z
  .strictObject({
    type: z.literal('schedule'),
    at: ScheduleAtSchema.optional(),
    cron: CronSchema.optional(),
    timezone: z
      .string()
      .refine((zone) => zone === 'user' || isValidZone(zone), 'must be "user" or an IANA time zone like "America/New_York"')
      .optional()
      .meta({
        description:
          'The zone `cron` is read in: an IANA zone (default: the journey\'s `settings.timezone`), or "user": each user at that ' +
          "local time in their own `timezone` attribute (else the journey's zone).",
      }),
  })
  .superRefine(checkScheduleHasOneTime, onAnyObject)
  .meta({
    id: 'ScheduleTrigger',
    description:
      'At `at` (once), or at every occurrence of `cron` (recurring), every user matching the audience enters; each ' +
      'occurrence enters a user at most once, and `reentry` decides whether a user enters again at a later one.',
    examples: [
      { type: 'schedule', at: '2030-06-01T09:00:00Z' },
      { type: 'schedule', cron: '0 9 * * 1', timezone: 'user' },
    ],
  });

export const TriggerSchema = z
  .discriminatedUnion('type', [EventTriggerSchema, ApiTriggerSchema, ScheduleTriggerSchema], {
    error: discriminatorError('type', ['event', 'api', 'schedule']),
  })
  .meta({
    id: 'Trigger',
    description: 'What enters users into the journey.',
    examples: [{ type: 'event', event: 'signed_up', where: { prop: 'source', op: 'ne', value: 'test' } }],
  });
export type Trigger = z.infer<typeof TriggerSchema>;
export type EventTrigger = z.infer<typeof EventTriggerSchema>;
export type ScheduleTrigger = z.infer<typeof ScheduleTriggerSchema>;

export const ReentrySchema = z
  .discriminatedUnion(
    'mode',
    [z.strictObject({ mode: z.literal('never') }), z.strictObject({ mode: z.literal('after'), after: IsoDurationSchema })],
    { error: discriminatorError('mode', ['never', 'after']) },
  )
  .meta({
    id: 'Reentry',
    description: '`never`: a user enters at most once; `after`: again once `after` has passed since their last entry.',
    examples: [{ mode: 'never' }, { mode: 'after', after: 'P7D' }],
  });
export type Reentry = z.infer<typeof ReentrySchema>;

export const EntrySchema = z
  .strictObject({
    trigger: TriggerSchema,
    audience: FilterSchema.optional(),
    reentry: ReentrySchema.default({ mode: 'never' }),
  })
  .meta({ id: 'JourneyEntry', description: 'Who enters and when; no `audience` means everyone.' });
export type JourneyEntry = z.infer<typeof EntrySchema>;

export const ExitSchema = z
  .strictObject({
    events: boundedList(EventNameSchema, JOURNEY_LIMITS.exitEvents, 'events').optional(),
    when: FilterSchema.optional(),
  })
  .meta({
    id: 'JourneyExit',
    description: 'A user leaves the journey at once when they send one of `events` or their attributes match `when`.',
  });
export type JourneyExit = z.infer<typeof ExitSchema>;

// ---- steps ------------------------------------------------------------------------------------

export const WEBHOOK_METHODS = ['POST', 'PUT', 'PATCH'] as const;

export const WebhookSchema = z
  .strictObject({
    url: WebhookUrlSchema.meta({
      description: 'http(s) URL; its path and query may hold Liquid templates, whose values are URL-encoded.',
    }),
    method: z.enum(WEBHOOK_METHODS).default('POST'),
    headers: z
      .record(
        HeaderNameSchema,
        z.string().max(JOURNEY_LIMITS.headerValueLength, `must be at most ${JOURNEY_LIMITS.headerValueLength} characters`),
      )
      .refine((headers) => Object.keys(headers).length <= JOURNEY_LIMITS.headers, `may have at most ${JOURNEY_LIMITS.headers} headers`)
      .optional()
      .meta({ description: 'Extra request headers; values may hold Liquid templates.' }),
    secret: z.string().min(16, 'must be at least 16 characters').max(256, 'must be at most 256 characters').optional().meta({
      description: 'Signs each request: `Journey-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.',
    }),
  })
  .meta({ id: 'Webhook', examples: [{ url: HOOK, method: 'POST', headers: { 'X-Campaign': '{{ event.campaign }}' } }] });
export type Webhook = z.infer<typeof WebhookSchema>;

export const MessageStepSchema = z
  .strictObject({
    type: z.literal('message'),
    channel: z.literal('webhook'),
    messageType: z.string().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    webhook: WebhookSchema,
    payload: PayloadSchema.default({}),
    next: StepRefSchema,
  })
  .superRefine(checkMessageTemplates, onAnyObject)
  .meta({
    id: 'MessageStep',
    description:
      'Sends one webhook per visit of the step in a user entry. Strings of `payload`, the webhook `url` and `headers` ' +
      'are Liquid templates on `user.*` and `event.*`, checked when the journey is saved and published. ' +
      'Users who muted `messageType` skip the send.',
    examples: [
      {
        type: 'message',
        channel: 'webhook',
        messageType: 'onboarding',
        webhook: { url: HOOK },
        payload: { text: 'Hi {{user.firstName}}' },
        next: null,
      },
    ],
  });

export const DelayUntilSchema = z.strictObject({
  time: TimeOfDaySchema,
  timezone: z
    .string()
    .refine((zone) => zone === 'user' || isValidZone(zone), 'must be "user" or an IANA time zone like "America/New_York"')
    .default('user')
    .meta({ description: '"user" (the user\'s `timezone` attribute, else the journey\'s zone) or an IANA zone.' }),
});

export const DelayStepSchema = z
  .strictObject({
    type: z.literal('delay'),
    duration: IsoDurationSchema.optional(),
    until: DelayUntilSchema.optional(),
    next: StepRefSchema,
  })
  .superRefine(checkDelayHasOneTarget, onAnyObject)
  .meta({
    id: 'DelayStep',
    description:
      "Waits `duration`, or `until` the next such wall-clock time (strictly later than now) in the user's zone " +
      "(`user`: their `timezone` attribute, else the journey's) or the given zone. Exactly one of the two.",
    examples: [
      { type: 'delay', duration: 'PT5S', next: null },
      { type: 'delay', until: { time: '09:00', timezone: 'user' }, next: null },
    ],
  });

export const AudienceBranchSchema = z.strictObject({ id: IdSchema, when: FilterSchema, next: StepRefSchema });

export const AudienceSplitStepSchema = z
  .strictObject({
    type: z.literal('audience_split'),
    branches: boundedList(AudienceBranchSchema, JOURNEY_LIMITS.branches, 'branches').min(1, 'needs at least one branch'),
    else: StepRefSchema,
  })
  .superRefine((step, ctx) => checkUniqueIds(step, 'branches', ctx, ELSE_BRANCH_ID), onAnyObject)
  .meta({
    id: 'AudienceSplitStep',
    description: `The first branch whose \`when\` matches is taken, else \`else\` (branch id "${ELSE_BRANCH_ID}").`,
    examples: [
      { type: 'audience_split', branches: [{ id: 'vip', when: { attr: 'plan', op: 'eq', value: 'pro' }, next: null }], else: null },
    ],
  });

export const ActionPathSchema = z.strictObject({
  id: IdSchema,
  event: EventNameSchema,
  where: FilterSchema.optional(),
  next: StepRefSchema,
});

export const ActionPathsStepSchema = z
  .strictObject({
    type: z.literal('action_paths'),
    window: IsoDurationSchema,
    paths: boundedList(ActionPathSchema, JOURNEY_LIMITS.paths, 'paths').min(1, 'needs at least one path'),
    timeout: StepRefSchema,
  })
  .superRefine((step, ctx) => checkUniqueIds(step, 'paths', ctx, TIMEOUT_BRANCH_ID), onAnyObject)
  .meta({
    id: 'ActionPathsStep',
    description:
      'Waits up to `window` for any listed event; the first matching event picks its path. When none arrives ' +
      `in time, \`timeout\` is taken (branch id "${TIMEOUT_BRANCH_ID}").`,
    examples: [{ type: 'action_paths', window: 'PT1H', paths: [{ id: 'bought', event: 'purchased', next: null }], timeout: null }],
  });

export const ExperimentVariantSchema = z.strictObject({
  id: IdSchema,
  weight: z.number().int('must be a whole number').min(0, 'must be between 0 and 100').max(100, 'must be between 0 and 100'),
  next: StepRefSchema,
});

export const ExperimentStepSchema = z
  .strictObject({
    type: z.literal('experiment'),
    variants: boundedList(ExperimentVariantSchema, JOURNEY_LIMITS.variants, 'variants').min(1, 'needs at least one variant'),
  })
  .superRefine((step, ctx) => {
    checkUniqueIds(step, 'variants', ctx);
    checkWeightsSumTo100(step, ctx);
  }, onAnyObject)
  .meta({
    id: 'ExperimentStep',
    description:
      'Assigns each user entry to a variant at random, stable per entry, by weight (weights add up to 100). ' +
      'A control group is a variant whose `next` is null.',
    examples: [
      {
        type: 'experiment',
        variants: [
          { id: 'A', weight: 50, next: null },
          { id: 'control', weight: 50, next: null },
        ],
      },
    ],
  });

export const UserUpdateStepSchema = z
  .strictObject({
    type: z.literal('user_update'),
    set: z
      .record(AttributeNameSchema, atMostBytes(JsonValueSchema, USER_LIMITS.attributeValueBytes))
      .refine(
        (set) => Object.keys(set).length <= JOURNEY_LIMITS.updateAttributes,
        `may set at most ${JOURNEY_LIMITS.updateAttributes} attributes`,
      )
      .default({})
      .meta({ description: 'Attributes to set; string values (at any depth) are Liquid templates.' }),
    unset: boundedList(AttributeNameSchema, JOURNEY_LIMITS.updateAttributes, 'attributes').default([]),
    next: StepRefSchema,
  })
  .superRefine(checkUserUpdate, onAnyObject)
  .meta({
    id: 'UserUpdateStep',
    description: "Sets and removes the user's attributes, once per visit of the step; later steps of the entry see the change.",
    examples: [{ type: 'user_update', set: { stage: 'trial', greeted: '{{ user.firstName }}' }, unset: ['coupon'], next: null }],
  });

export const ExitStepSchema = z
  .strictObject({ type: z.literal('exit') })
  .meta({ id: 'ExitStep', description: 'The user leaves the journey.', examples: [{ type: 'exit' }] });

export const StepSchema = z
  .discriminatedUnion(
    'type',
    [
      MessageStepSchema,
      DelayStepSchema,
      AudienceSplitStepSchema,
      ActionPathsStepSchema,
      ExperimentStepSchema,
      UserUpdateStepSchema,
      ExitStepSchema,
    ],
    { error: discriminatorError('type', STEP_TYPES) },
  )
  .meta({ id: 'Step', description: 'One node of the journey graph, chosen by `type`.' });

export type Step = z.infer<typeof StepSchema>;
export type StepType = Step['type'];
export type MessageStep = z.infer<typeof MessageStepSchema>;
export type DelayStep = z.infer<typeof DelayStepSchema>;
export type AudienceSplitStep = z.infer<typeof AudienceSplitStepSchema>;
export type AudienceBranch = z.infer<typeof AudienceBranchSchema>;
export type ActionPathsStep = z.infer<typeof ActionPathsStepSchema>;
export type ActionPath = z.infer<typeof ActionPathSchema>;
export type ExperimentStep = z.infer<typeof ExperimentStepSchema>;
export type ExperimentVariant = z.infer<typeof ExperimentVariantSchema>;
export type ExitStep = z.infer<typeof ExitStepSchema>;
export type UserUpdateStep = z.infer<typeof UserUpdateStepSchema>;

// ---- goal -------------------------------------------------------------------------------------

export const GoalSchema = z
  .strictObject({
    event: EventNameSchema,
    where: FilterSchema.optional(),
    window: IsoDurationSchema,
    exitOnGoal: z.boolean().default(false),
  })
  .meta({
    id: 'JourneyGoal',
    description:
      'A user entry converts when the user sends `event` (whose properties match `where`) within `window` after entering: ' +
      'counted once per entry, for the journey and for every step and branch (experiment variants too) the entry reached. ' +
      '`exitOnGoal` ends an active entry when it converts.',
    examples: [{ event: 'purchased', where: { prop: 'total', op: 'gt', value: 0 }, window: 'P7D', exitOnGoal: true }],
  });
export type JourneyGoal = z.infer<typeof GoalSchema>;

// ---- settings ---------------------------------------------------------------------------------

export const QuietHoursSchema = z
  .strictObject({ start: TimeOfDaySchema, end: TimeOfDaySchema })
  .superRefine(checkQuietHoursNotEmpty, onAnyObject)
  .meta({
    id: 'QuietHours',
    description: "No message is sent in [start, end) of the user's local time; sends move to `end`. May cross midnight.",
    examples: [{ start: '22:00', end: '08:00' }],
  });
export type QuietHours = z.infer<typeof QuietHoursSchema>;

export const FrequencyCapSchema = z
  .strictObject({
    messages: z.number().int('must be a whole number').min(1, 'must be at least 1'),
    per: IsoDurationSchema,
  })
  .meta({
    id: 'FrequencyCap',
    description:
      'At most `messages` sends to one user, by any journey, within any trailing `per` window. The engine remembers sends for 31 days: a longer `per` counts the last 31 days.',
    examples: [{ messages: 3, per: 'P1D' }],
  });
export type FrequencyCap = z.infer<typeof FrequencyCapSchema>;

export const SettingsSchema = z
  .strictObject({
    timezone: TimeZoneSchema.default(DEFAULT_JOURNEY_ZONE),
    quietHours: QuietHoursSchema.optional(),
    frequencyCap: FrequencyCapSchema.optional(),
  })
  .meta({
    id: 'JourneySettings',
    description: "The journey's zone (used when a user has no valid `timezone` attribute), quiet hours and frequency cap.",
    examples: [{ timezone: 'UTC', quietHours: { start: '22:00', end: '08:00' }, frequencyCap: { messages: 3, per: 'P1D' } }],
  });
export type JourneySettings = z.infer<typeof SettingsSchema>;

// ---- journey ----------------------------------------------------------------------------------

export const JourneyDefinitionSchema = z
  .strictObject({
    name: NameSchema,
    entry: EntrySchema,
    exit: ExitSchema.optional(),
    goal: GoalSchema.optional(),
    start: z.string().min(1, 'must name the first step'),
    // The number of steps is bounded by validateJourney, before the rules walk them; published here.
    steps: z.record(StepIdKeySchema, StepSchema).meta({ maxProperties: JOURNEY_LIMITS.steps }),
    settings: SettingsSchema.default({ timezone: DEFAULT_JOURNEY_ZONE }),
  })
  // Graph rules (references, reachability, loops) look at every step even when some are malformed.
  .superRefine(checkJourneyGraph, onAnyObject)
  .meta({
    id: 'JourneyDefinition',
    description:
      'A journey: how users enter, when they leave, and the graph of steps they move through from `start`. ' +
      `Unknown fields are rejected. At most ${JOURNEY_LIMITS.steps} steps and ${formatBytes(JOURNEY_LIMITS.definitionBytes)} as JSON, ` +
      `nested at most ${MAX_NESTING_DEPTH} levels.`,
  });

// Added after the declaration because the example is typed by this very schema.
z.globalRegistry.add(JourneyDefinitionSchema, {
  ...z.globalRegistry.get(JourneyDefinitionSchema),
  examples: [exampleJourney],
});

/** A journey after validation, with defaults filled in. */
export type JourneyDefinition = z.infer<typeof JourneyDefinitionSchema>;
/** A journey as authored (defaults may be left out). */
export type JourneyDefinitionInput = z.input<typeof JourneyDefinitionSchema>;
