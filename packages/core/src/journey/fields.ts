import { z } from 'zod';
import { formatBytes } from '../data/json-size.js';
import { atMostBytes } from '../data/limits.js';
import { JsonObjectSchema } from '../data/json.js';
import { MAX_EVENT_NAME_LENGTH } from '../event/schema.js';
import { ISO_DURATION_PATTERN, isPositiveIsoDuration, isWithinMaxDuration, MAX_DURATION_ISO } from '../time/duration.js';
import { TIME_OF_DAY_PATTERN } from '../time/time-of-day.js';
import { isValidZone } from '../time/zone.js';
import { cronProblem } from '../time/cron.js';
import { ID_PATTERN, ID_RULE } from './ids.js';
import { JOURNEY_LIMITS } from './limits.js';

export const IdSchema = z.string().regex(ID_PATTERN, ID_RULE);

/**
 * Keys of `steps`. The pattern is published in JSON Schema but enforced by the graph rules: zod drops
 * a record entry whose key fails, which would hide that step from the reference checks.
 */
export const StepIdKeySchema = z.string().meta({ pattern: ID_PATTERN.source });

/** A reference to another step; null ends the journey for the user. Existence is checked by the graph rules. */
export const StepRefSchema = z
  .string({
    error: (issue) => (issue.input === undefined ? 'is required: a step id, or null to end the journey' : 'must be a step id or null'),
  })
  .min(1, 'must be a step id or null')
  .nullable();

export const IsoDurationSchema = z
  .string()
  .regex(ISO_DURATION_PATTERN, 'must be an ISO 8601 duration such as "PT30S", "PT1H" or "P1D"')
  // Only judged once the syntax is right, so a malformed value gets one message, not two.
  .refine((value) => !ISO_DURATION_PATTERN.test(value) || isPositiveIsoDuration(value), 'must be longer than zero')
  .refine(
    (value) => !ISO_DURATION_PATTERN.test(value) || isWithinMaxDuration(value),
    `must be at most 10 years ("${MAX_DURATION_ISO}"; a year counts 365 days, a month 30)`,
  )
  .meta({
    description: `ISO 8601 duration, longer than zero and at most 10 years ("${MAX_DURATION_ISO}").`,
    examples: ['PT5S', 'PT1H', 'P1D'],
  });

export const TimeOfDaySchema = z
  .string()
  .regex(TIME_OF_DAY_PATTERN, 'must be a 24-hour time "HH:mm" like "09:00"')
  .meta({ description: '24-hour local wall-clock time.', examples: ['09:00', '22:30'] });

export const TimeZoneSchema = z
  .string()
  .refine(isValidZone, 'must be an IANA time zone like "Europe/Berlin" or "UTC"')
  .meta({ description: 'IANA time zone name.', examples: ['UTC', 'America/New_York'] });

export const WebhookUrlSchema = z
  .url({
    protocol: /^https?$/,
    error: 'must be an http:// or https:// URL with a host, like "https://example.com/hook"',
  })
  .max(JOURNEY_LIMITS.webhookUrlLength, `must be at most ${JOURNEY_LIMITS.webhookUrlLength} characters`);

/** An event a journey waits for or reacts to, named as apps post it. */
export const EventNameSchema = z
  .string()
  .min(1, 'must name an event')
  .max(MAX_EVENT_NAME_LENGTH, `must be at most ${MAX_EVENT_NAME_LENGTH} characters, as event names are`);

/** A message step's payload: any JSON object up to `JOURNEY_LIMITS.payloadBytes`. */
export const PayloadSchema = atMostBytes(JsonObjectSchema, JOURNEY_LIMITS.payloadBytes).meta({
  description: `Any JSON object, at most ${formatBytes(JOURNEY_LIMITS.payloadBytes)} as JSON (UTF-8).`,
});

/** A list of at most `max` items, saying what they are when there are more. */
export function boundedList<T extends z.ZodType>(item: T, max: number, what: string) {
  return z.array(item).max(max, `may have at most ${max} ${what}`);
}

export const IsoDateTimeSchema = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time with an offset or Z, like "2025-06-01T09:00:00Z"' })
  .meta({ examples: ['2025-06-01T09:00:00Z', '2025-06-01T09:00:00+02:00'] });

/**
 * When a journey may be scheduled: from the Unix epoch (instants are epoch milliseconds, which the queues
 * store unsigned) up to, not including, 2100.
 */
export const SCHEDULE_RANGE = { from: '1970-01-01T00:00:00Z', until: '2100-01-01T00:00:00Z' } as const;
const SCHEDULE_FROM_MS = Date.parse(SCHEDULE_RANGE.from);
const SCHEDULE_UNTIL_MS = Date.parse(SCHEDULE_RANGE.until);

export const ScheduleAtSchema = IsoDateTimeSchema.refine((at) => {
  const ms = Date.parse(at);
  // Not a date at all is the format's message alone.
  return Number.isNaN(ms) || (ms >= SCHEDULE_FROM_MS && ms < SCHEDULE_UNTIL_MS);
}, `must be from ${SCHEDULE_RANGE.from} up to (not including) ${SCHEDULE_RANGE.until}`).meta({
  description: `An ISO 8601 date-time from ${SCHEDULE_RANGE.from} up to (not including) ${SCHEDULE_RANGE.until}.`,
});

export const NameSchema = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

/** The message for a discriminated union whose `key` is missing or names no known variant. */
export function discriminatorError(key: string, options: readonly string[]) {
  const choices = options.map((option) => `"${option}"`).join(', ');
  return (issue: { input?: unknown }): string => {
    const given = issue.input !== null && typeof issue.input === 'object' ? (issue.input as Record<string, unknown>)[key] : undefined;
    return given === undefined ? `is required: one of ${choices}` : `must be one of ${choices}, not ${JSON.stringify(given)}`;
  };
}

/** A five-field cron pattern, read by croner (docs: minute hour day-of-month month day-of-week). */
export const CronSchema = z
  .string()
  .superRefine((pattern, ctx) => {
    const problem = cronProblem(pattern);
    if (problem !== null) ctx.addIssue({ code: 'custom', message: `is not a valid cron pattern: ${problem}`, input: pattern });
  })
  .meta({ description: 'Five-field cron pattern: minute hour day-of-month month day-of-week.', examples: ['0 9 * * 1', '30 18 1 * *'] });

/** A user attribute name: it becomes a MongoDB field path (`attributes.<name>`), so no dots and no leading `$`. */
export const ATTRIBUTE_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;
export const AttributeNameSchema = z
  .string()
  .regex(ATTRIBUTE_NAME_PATTERN, 'attribute names are 1-64 letters, digits, _ or - (not starting with -)');

/** Headers the engine writes itself: a step may not set them. */
export const RESERVED_HEADERS = [
  'content-type',
  'content-length',
  'host',
  'idempotency-key',
  'journey-signature',
  'transfer-encoding',
  'connection',
];

/** An HTTP header name (RFC 9110 token), other than the engine's own. */
export const HeaderNameSchema = z
  .string()
  .regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/, "must be an HTTP header name: 1-64 letters, digits or !#$%&'*+.^_`|~-")
  .refine((name) => !RESERVED_HEADERS.includes(name.toLowerCase()), `is set by the engine (${RESERVED_HEADERS.join(', ')})`);
