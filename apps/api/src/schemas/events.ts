import {
  EventIdSchema,
  isRecord,
  nestingIssue,
  parseReportingIssues,
  unstorableIssues,
  UserEventInputSchema,
  type UserEventInput,
  type ValidationIssue,
} from '@journey/core';
import { z } from 'zod';
import { HttpError } from '../plugins/error-handler.js';

export const MAX_EVENTS_PER_REQUEST = 1000;

const EXAMPLE_EVENT = {
  id: 'evt-1001',
  userId: 'user-42',
  name: 'purchased',
  time: '2026-11-22T09:30:00Z',
  properties: { item: 'T-shirt', price: 19.5 },
};

const EventBatchSchema = z.strictObject({ events: z.array(UserEventInputSchema).min(1).max(MAX_EVENTS_PER_REQUEST) }).meta({
  id: 'EventBatch',
  description: `1 to ${MAX_EVENTS_PER_REQUEST} events. Each is checked on its own: a bad one is listed in \`rejected\`, the others are accepted.`,
  examples: [{ events: [EXAMPLE_EVENT, { userId: 'user-7', name: 'signed_up' }] }],
});

/** One event the request refused, by its position in the batch. */
export const RejectedEventSchema = z
  .object({
    index: z.number().int().nonnegative().describe('Position of the event in `events` (0-based)'),
    id: z.string().optional().describe("The event's `id`, when it sent one"),
    error: z.string().describe('Each problem, as `field: problem`, joined by "; "'),
  })
  .meta({ id: 'RejectedEvent', examples: [{ index: 1, id: 'evt-1002', error: 'userId: must not contain "|" or control characters' }] });
export type RejectedEvent = z.infer<typeof RejectedEventSchema>;

/**
 * The body of `POST /v1/events`: one event, or a batch. It documents the body and types the handler; the route
 * checks bodies with `checkEventsBody` (each event of a batch on its own), which returns what the transform
 * returns for a body with no bad event.
 */
export const EventsRequestSchema = z
  .union([UserEventInputSchema, EventBatchSchema])
  .meta({
    id: 'EventsRequest',
    description: `One event, or \`{ "events": [...] }\` with 1 to ${MAX_EVENTS_PER_REQUEST} events.`,
    examples: [EXAMPLE_EVENT, { events: [EXAMPLE_EVENT] }],
  })
  .transform((body): { events: UserEventInput[]; rejected: RejectedEvent[] } => ({
    events: 'events' in body ? body.events : [body],
    rejected: [],
  }));
export type EventsRequest = z.output<typeof EventsRequestSchema>;

export const EventsAcceptedSchema = z
  .object({
    accepted: z.number().int().nonnegative().describe('New events, durable now: each is processed once'),
    duplicates: z
      .number()
      .int()
      .nonnegative()
      .describe('Events whose `id` was accepted before (within the de-duplication window): acknowledged, not processed again'),
    rejected: z
      .array(RejectedEventSchema)
      .describe('Events of a batch that were refused; always empty for a single event (a bad one is a 400)'),
  })
  .meta({ id: 'EventsAccepted', examples: [{ accepted: 1, duplicates: 0, rejected: [{ index: 1, error: 'name: is required' }] }] });

const BatchEnvelopeSchema = z.strictObject({
  events: z
    .array(z.unknown(), { error: 'must be an array of events' })
    .min(1, 'must hold at least 1 event')
    .max(MAX_EVENTS_PER_REQUEST, `may hold at most ${MAX_EVENTS_PER_REQUEST} events per request`),
});

const SHAPE = `one event object, or { "events": [...] } with 1 to ${MAX_EVENTS_PER_REQUEST} events`;

/** One event's problems, at paths inside the event (`userId`, `properties.$os`); empty when it is fine. */
function eventIssues(input: unknown): { event: UserEventInput } | { issues: ValidationIssue[] } {
  if (!isRecord(input)) return { issues: [{ path: '', message: 'must be an event object: { userId, name, id?, time?, properties? }' }] };
  // Iterative, so it runs before anything recursive (the schema, the BSON encoder) looks at the properties.
  const tooDeep = nestingIssue(input);
  if (tooDeep) return { issues: [tooDeep] };
  const parsed = parseReportingIssues(UserEventInputSchema, input);
  if (!parsed.ok) return { issues: parsed.issues };
  // The worker keeps the triggering event's properties with the user's journey state: names MongoDB cannot
  // store would fail that write on every retry and hold up the user's partition.
  const unstorable = unstorableIssues(parsed.value.properties ?? {}).map((issue) => ({ ...issue, path: `properties.${issue.path}` }));
  if (unstorable.length > 0) return { issues: unstorable };
  return { event: parsed.value };
}

function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues.map(({ path, message }) => (path ? `${path}: ${message}` : message)).join('; ');
}

function invalid(message: string, details: ValidationIssue[]): { error: HttpError } {
  return {
    error: new HttpError(
      400,
      message,
      details.map(({ path, message: problem }) => ({ path: path ? `body.${path}` : 'body', message: problem })),
    ),
  };
}

/**
 * The body check of `POST /v1/events`. A body that is not one event or a well-formed batch, or a single event
 * that is invalid, is a 400 naming the field (`body.userId`, `body.events`). In a batch each event is checked on
 * its own: the bad ones come back in `rejected` and the others go on.
 */
export function checkEventsBody(body: unknown): { value: EventsRequest } | { error: HttpError } {
  if (!isRecord(body)) return invalid('Invalid request body', [{ path: '', message: `must be ${SHAPE}` }]);

  if (!Object.hasOwn(body, 'events')) {
    const checked = eventIssues(body);
    if ('issues' in checked) return invalid('Invalid event', checked.issues);
    return { value: { events: [checked.event], rejected: [] } };
  }

  const envelope = parseReportingIssues(BatchEnvelopeSchema, body);
  if (!envelope.ok) return invalid('Invalid batch of events', envelope.issues);
  const events: UserEventInput[] = [];
  const rejected: RejectedEvent[] = [];
  envelope.value.events.forEach((item, index) => {
    const checked = eventIssues(item);
    if ('event' in checked) {
      events.push(checked.event);
      return;
    }
    // Echoed so the client can match it up; an id that is not a valid id itself is left out (the index still says which).
    const id = isRecord(item) && EventIdSchema.safeParse(item.id).success ? (item.id as string) : undefined;
    rejected.push({ index, ...(id === undefined ? {} : { id }), error: describeIssues(checked.issues) });
  });
  return { value: { events, rejected } };
}
