import type { JsonObject } from '../data/json.js';
import type { IngestRecord } from '../event/schema.js';
import type { JourneyDefinition } from '../journey/schema.js';
import type { EpochMs } from '../time/epoch.js';
import { matchActionPath, type JourneyEvent } from './action-paths.js';
import { API_ENTRY, entryRefusal, shouldExit } from './entry.js';
import { evaluateFilter } from '../filter/evaluate.js';
import { addIsoDuration } from '../time/duration.js';
import type { EntryState, ScheduledStep } from './entry-state.js';
import { entryIdFor, parseStepToken, stepToken } from './token.js';

/** An active journey and the definition of the version new entries use. */
export interface ActiveJourney {
  journeyId: string;
  version: number;
  definition: JourneyDefinition;
}

/** A user about to enter a journey. */
export interface Entrant {
  userId: string;
  /** Derived from the cause (entryIdFor), so the same cause finds the same entry. */
  entryId: string;
  /** The event that entered the user, for `{{event.X}}`; null for api and schedule entries. */
  trigger: { name: string; properties: JsonObject } | null;
  /** The user's state in the journey as read before deciding; null when they were never in it. */
  current: EntryState | null;
}

/** Everything applying one record depends on, read before deciding. */
export interface RecordPlanInput {
  /** The record's stream id: entry ids derive from it (unique for ever, unlike a client's event id). */
  streamId: string;
  record: IngestRecord;
  /** The user's attributes now. */
  attributes: Readonly<Record<string, unknown>>;
  /** Every state of the user (any status). */
  states: readonly EntryState[];
  /** The definitions of the versions the user's active and not yet converted states run on, by `versionKey`. */
  definitions: ReadonlyMap<string, JourneyDefinition>;
  active: readonly ActiveJourney[];
  now: EpochMs;
}

export type RecordAction =
  /** The entry converted (its journey's goal): mark it once, and count it at every step and branch of its path. */
  | { kind: 'convert'; journeyId: string; version: number; entryId: string; at: EpochMs }
  /** Erase everything the engine holds of the user (an `erase` record): nothing else is done for them. */
  | { kind: 'erase' }
  /** Seal the entry's branch lock with EXIT_TOKEN, then mark the state exited (counted at the step it was at). */
  | { kind: 'exit'; journeyId: string; version: number; entryId: string; stepId: string | null }
  /** Claim the awaited step for this event, then schedule the path's item (expecting the awaiting token). */
  | {
      kind: 'action-path';
      journeyId: string;
      entryId: string;
      awaitingToken: string;
      /** The record's stream id: a retry recognises its own claim by it. */
      recordId: string;
      event: { name: string; properties: JsonObject };
      step: ScheduledStep;
    }
  /** Enter the user (unless active, or re-entry forbids it: decided with the state when carried out). */
  | { kind: 'enter'; journey: ActiveJourney; entrant: Entrant };

export interface RecordPlan {
  /** In the order they must be carried out: conversions, exits, then action paths, then entries. */
  actions: RecordAction[];
  /** Stored data the plan had to pass over (worth a warning, not a failed record). */
  problems: string[];
}

export const versionKey = (journeyId: string, version: number): string => `${journeyId}:${version}`;

/**
 * What one record does to one user (docs/architecture.md, "Entering and leaving journeys"), as a pure function:
 * 0. for an event, the goal of every journey the user entered and has not converted in yet, within its window
 *    after the entry (by the event's time): a conversion, and an exit of the active entry when `exitOnGoal`;
 * 1. exit criteria of every journey the user is active in (`exit.events` for events, `exit.when` for events and
 *    attribute changes; api entries change no attributes and trigger no exit);
 * 2. for an event, the `action_paths` step each remaining active entry waits on;
 * 3. entries: event triggers of active journeys whose trigger and audience match, or the api journey an
 *    `enter` record names (audience still applies), unless the user matches the journey's exit criteria (they
 *    would leave at once). A journey the user just exited counts as exited.
 */
export function planRecord(input: RecordPlanInput): RecordPlan {
  const { record, attributes, now } = input;
  const actions: RecordAction[] = [];
  const problems: string[] = [];
  const event: JourneyEvent | undefined = record.type === 'event' ? { name: record.name, properties: record.properties } : undefined;
  const exited = new Set<string>();
  const activeStates = input.states.filter((state) => state.status === 'active');
  const definitionOf = (state: EntryState) => {
    const found = input.definitions.get(versionKey(state.journeyId, state.version));
    if (!found) problems.push(`journey ${state.journeyId} has no published version ${state.version}; the user's state in it is left alone`);
    return found;
  };

  if (record.type === 'erase') return { actions: [{ kind: 'erase' }], problems };

  if (record.type === 'event' && event) {
    for (const state of input.states) {
      if (state.convertedAt !== null) continue;
      const goal = input.definitions.get(versionKey(state.journeyId, state.version))?.goal;
      if (!goal || goal.event !== event.name) continue;
      if (goal.where !== undefined && !evaluateFilter(goal.where, { user: attributes, event: event.properties })) continue;
      if (record.time > addIsoDuration(state.lastEnteredAt, goal.window)) continue;
      actions.push({ kind: 'convert', journeyId: state.journeyId, version: state.version, entryId: state.entryId, at: record.time });
      if (goal.exitOnGoal && state.status === 'active') {
        actions.push({ kind: 'exit', journeyId: state.journeyId, version: state.version, entryId: state.entryId, stepId: state.stepId });
        exited.add(state.journeyId);
      }
    }
  }

  if (record.type !== 'enter') {
    for (const state of activeStates) {
      if (exited.has(state.journeyId)) continue;
      const definition = definitionOf(state);
      if (definition && shouldExit(definition.exit, attributes, event)) {
        actions.push({ kind: 'exit', journeyId: state.journeyId, version: state.version, entryId: state.entryId, stepId: state.stepId });
        exited.add(state.journeyId);
      }
    }
  }

  if (record.type === 'event' && event) {
    for (const state of activeStates) {
      const awaiting = state.awaiting;
      if (awaiting === null || exited.has(state.journeyId)) continue;
      const definition = input.definitions.get(versionKey(state.journeyId, state.version));
      if (!definition) continue; // reported above
      const step = definition.steps[awaiting.stepId];
      if (step?.type !== 'action_paths') {
        problems.push(
          `journey ${state.journeyId} version ${state.version} has no action_paths step "${awaiting.stepId}" that the user awaits`,
        );
        continue;
      }
      const path = matchActionPath(step, event, attributes);
      if (!path) continue;
      let seq: number;
      try {
        seq = parseStepToken(awaiting.token).seq;
      } catch {
        problems.push(`journey ${state.journeyId}: the awaiting token "${awaiting.token}" is no step token`);
        continue;
      }
      actions.push({
        kind: 'action-path',
        journeyId: state.journeyId,
        entryId: state.entryId,
        awaitingToken: awaiting.token,
        recordId: input.streamId,
        event: { name: record.name, properties: record.properties },
        step: {
          branch: { journeyId: state.journeyId, version: state.version, stepId: awaiting.stepId },
          dueSecond: Math.floor(now / 1000),
          member: { userId: state.userId, entryId: state.entryId, expectedToken: awaiting.token, ownToken: stepToken(seq + 1, path.id) },
        },
      });
    }
  }

  const candidates = input.active.filter(({ journeyId, definition }) => {
    if (record.type === 'event') return entryRefusal(definition, { kind: 'event', event: event! }, attributes) === null;
    if (record.type === 'enter')
      return (
        journeyId === record.journeyId && entryRefusal(definition, { kind: 'api', properties: record.properties }, attributes) === null
      );
    return false;
  });
  for (const journey of candidates) {
    const stored = input.states.find((state) => state.journeyId === journey.journeyId) ?? null;
    const current = stored && exited.has(journey.journeyId) ? { ...stored, status: 'exited' as const } : stored;
    actions.push({
      kind: 'enter',
      journey,
      entrant: {
        userId: record.userId,
        entryId: entryIdFor(journey.journeyId, record.type === 'enter' && record.entryKey ? `api:${record.entryKey}` : input.streamId),
        trigger:
          record.type === 'event'
            ? { name: record.name, properties: record.properties }
            : record.type === 'enter' && record.properties
              ? { name: API_ENTRY, properties: record.properties }
              : null,
        current,
      },
    });
  }
  return { actions, problems };
}
