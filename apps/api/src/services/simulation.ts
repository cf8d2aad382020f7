import { randomUUID } from 'node:crypto';
import {
  addIsoDuration,
  API_ENTRY,
  entryIdFor,
  entryRefusal,
  renderMessage,
  simulateAudience,
  simulateEntry,
  webhookRequest,
  type EntryCause,
  type EntryRefusal,
  type EntrySimulation,
  type EntrySimulationInput,
  type JourneyDefinition,
  type JsonObject,
  type MessageToSend,
  type RetryPolicy,
  type TimelineEntry,
} from '@journey/core';
import type { UsersRepository } from '@journey/mongo';
import type { WebhookChannel } from '@journey/webhook';
import type { z } from 'zod';
import { HttpError } from '../plugins/error-handler.js';
import type {
  AudienceSimulationSchema,
  EntrySimulationSchema,
  SimulationRequest,
  TestSendRequest,
  TestSendResultSchema,
} from '../schemas/simulation.js';
import type { JourneyVersions, JourneyVersionView } from './journey-versions.js';

type SimulatedUser = NonNullable<SimulationRequest['user']>;
type EntrySimulationBody = z.infer<typeof EntrySimulationSchema>;
type AudienceSimulationBody = z.infer<typeof AudienceSimulationSchema>;
type TestSendResult = z.infer<typeof TestSendResultSchema>;

export interface SimulationDeps {
  versions: JourneyVersions;
  users: Pick<UsersRepository, 'getMany'>;
  /** The engine's retry policy (WEBHOOK_RETRY_*): the simulation settles sends as the dispatcher does. */
  retryPolicy: RetryPolicy;
  /** Delivers test sends. */
  channel: Pick<WebhookChannel, 'attempt'>;
  now: () => number;
}

const DEFAULT_USER_ID = 'simulated-user';
/** The entry id of a test send's message: no entry made it. */
const TEST_ENTRY_ID = 'test';

/**
 * Dry runs and test sends: the journey's own decisions (core's simulateEntry, entryRefusal, renderMessage) for a user
 * given here or stored, with nothing sent, stored or counted; a test send delivers one message for real, marked.
 */
export function createSimulationService(deps: SimulationDeps) {
  /** The attributes and mutes to simulate with: as given, else the stored user's (a user id that is not stored has none). */
  async function resolveUsers(
    given: readonly SimulatedUser[],
  ): Promise<Array<{ userId: string; attributes: Record<string, unknown>; muted: string[]; entryId?: string }>> {
    const ids = [
      ...new Set(
        given.flatMap((user) =>
          user.userId !== undefined && (user.attributes === undefined || user.muted === undefined) ? [user.userId] : [],
        ),
      ),
    ];
    const stored = new Map((await deps.users.getMany(ids)).map((user) => [user.userId, user]));
    return given.map((user, index) => {
      const userId = user.userId ?? (given.length === 1 ? DEFAULT_USER_ID : `${DEFAULT_USER_ID}-${index + 1}`);
      return {
        userId,
        attributes: user.attributes ?? stored.get(userId)?.attributes ?? {},
        muted: user.muted ?? stored.get(userId)?.muted ?? [],
        ...(user.entryId ? { entryId: user.entryId } : {}),
      };
    });
  }

  function versionNumber(view: JourneyVersionView): number {
    return view.version === 'draft' ? (view.journey.draft?.version ?? view.journey.latestVersion + 1) : view.version;
  }

  async function simulationInputs(journeyId: string, body: SimulationRequest) {
    const view = await deps.versions.view(journeyId, body.version, 'simulate it');
    const { definition } = view;
    const enteredAt = body.enteredAt === undefined ? deps.now() : Date.parse(body.enteredAt);
    const properties: JsonObject = body.entry?.properties ?? {};
    const { cause, trigger } = entryCause(definition, properties);
    const until = addIsoDuration(enteredAt, body.horizon);
    const events = body.events.map((event) => ({
      at: addIsoDuration(enteredAt, event.after),
      name: event.name,
      properties: event.properties,
    }));
    const users = await resolveUsers(body.user ? [body.user] : (body.users ?? []));
    const inputs = users.map((user) => {
      const refusal = entryRefusal(definition, cause, user.attributes);
      const input: EntrySimulationInput = {
        journey: definition,
        journeyId,
        version: versionNumber(view),
        userId: user.userId,
        attributes: user.attributes,
        muted: user.muted,
        sentBefore: [],
        entryId: user.entryId ?? entryIdFor(journeyId, `simulation:${user.userId}:${enteredAt}`),
        enteredAt,
        trigger,
        events,
        retryPolicy: deps.retryPolicy,
        until,
      };
      return { input, refusal };
    });
    return { view, inputs };
  }

  return {
    /** One user's timeline. */
    async simulateOne(journeyId: string, body: SimulationRequest): Promise<EntrySimulationBody> {
      const { view, inputs } = await simulationInputs(journeyId, body);
      const { input, refusal } = inputs[0]!;
      if (refusal)
        return {
          version: view.version,
          userId: input.userId,
          entered: false,
          notEntered: refusal,
          entryId: null,
          timeline: [],
          path: [],
          end: null,
          convertedAt: null,
          attributes: { ...input.attributes } as EntrySimulationBody['attributes'],
        };
      return {
        version: view.version,
        userId: input.userId,
        entered: true,
        notEntered: null,
        ...entryBody(input.entryId, simulateEntry(input)),
      };
    },

    /** Many users: the share of those who enter per path. */
    async simulateMany(journeyId: string, body: SimulationRequest): Promise<AudienceSimulationBody> {
      const { view, inputs } = await simulationInputs(journeyId, body);
      const notEntered: Record<EntryRefusal, number> = { trigger: 0, audience: 0, exit: 0 };
      const entering: EntrySimulationInput[] = [];
      for (const { input, refusal } of inputs) {
        if (refusal) notEntered[refusal]++;
        else entering.push(input);
      }
      return { version: view.version, entered: entering.length, notEntered, ...simulateAudience(entering), users: inputs.length };
    },

    /** Renders one message step for a user and delivers it once, marked `Journey-Test: true`; no state, no counter. */
    async testSend(journeyId: string, stepId: string, body: TestSendRequest): Promise<TestSendResult> {
      const view = await deps.versions.view(journeyId, body.version, 'send a test of it');
      const step = Object.hasOwn(view.definition.steps, stepId) ? view.definition.steps[stepId] : undefined;
      if (!step) throw new HttpError(404, `Journey ${journeyId} version ${view.version} has no step "${stepId}"`);
      if (step.type !== 'message') throw new HttpError(400, `Step "${stepId}" is a ${step.type} step: only message steps send`);
      const [user] = await resolveUsers([{ userId: body.userId, attributes: body.attributes, muted: [] }]);
      const rendered = renderMessage(view.definition, stepId, step, { user: user!.attributes, event: body.properties });
      if (!rendered.ok)
        throw new HttpError(400, `The step's templates do not render for this user: ${rendered.error}`, [
          { path: `steps.${stepId}`, message: rendered.error },
        ]);
      const message: MessageToSend = {
        // A message id of its own: a receiver that drops repeated ids never takes a test for a real message.
        messageId: randomUUID(),
        journeyId,
        version: versionNumber(view),
        stepId,
        branchId: null,
        userId: user!.userId,
        entryId: TEST_ENTRY_ID,
        messageType: step.messageType,
        ...rendered.value,
        url: body.url ?? rendered.value.url,
        secret: step.webhook.secret ?? null,
      };
      const result = await deps.channel.attempt(message, { test: true });
      const { attempt } = result;
      return {
        delivered: result.status === 'sent',
        // What went out: the request as built at the attempt's time (the signature is of that second).
        request: webhookRequest(message, attempt.at.getTime(), { test: true }),
        response: {
          outcome: result.status === 'failed' && result.reason === 'invalid_url' ? 'invalid_url' : attempt.outcome,
          status: attempt.status ?? null,
          durationMs: attempt.durationMs,
          error: attempt.error ?? null,
        },
      };
    },
  };
}

export type SimulationService = ReturnType<typeof createSimulationService>;

/** How the journey's trigger enters a user, and the trigger the entry keeps (what templates read as `event`). */
function entryCause(
  definition: JourneyDefinition,
  properties: JsonObject,
): { cause: EntryCause; trigger: EntrySimulationInput['trigger'] } {
  const { trigger } = definition.entry;
  switch (trigger.type) {
    case 'event':
      return { cause: { kind: 'event', event: { name: trigger.event, properties } }, trigger: { name: trigger.event, properties } };
    case 'api':
      return { cause: { kind: 'api', properties }, trigger: { name: API_ENTRY, properties } };
    case 'schedule':
      return { cause: { kind: 'schedule' }, trigger: null };
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

function entryBody(
  entryId: string,
  simulated: EntrySimulation,
): Omit<EntrySimulationBody, 'version' | 'userId' | 'entered' | 'notEntered'> {
  return {
    entryId,
    timeline: simulated.timeline.map(timelineBody),
    path: simulated.path,
    end: { ...simulated.end, at: iso(simulated.end.at) },
    convertedAt: simulated.convertedAt === null ? null : iso(simulated.convertedAt),
    attributes: simulated.attributes as EntrySimulationBody['attributes'],
  };
}

/** A timeline entry with its instants as ISO 8601 strings. */
function timelineBody(entry: TimelineEntry): EntrySimulationBody['timeline'][number] {
  const at = iso(entry.at);
  switch (entry.kind) {
    case 'wait':
      return { ...entry, at, until: iso(entry.until) };
    case 'await':
      return { ...entry, at, deadline: iso(entry.deadline) };
    case 'quiet_hours':
      return { ...entry, at, sendAt: iso(entry.sendAt) };
    default:
      return { ...entry, at } as EntrySimulationBody['timeline'][number];
  }
}
