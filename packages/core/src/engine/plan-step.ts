import { experimentSeed, assignVariant } from '../experiment/assign.js';
import { evaluateFilter } from '../filter/evaluate.js';
import type { ActionPathsStep, AudienceSplitStep, DelayStep, ExperimentStep, JourneyDefinition, MessageStep } from '../journey/schema.js';
import { ELSE_BRANCH_ID } from '../journey/branch-ids.js';
import { renderMessage } from '../template/journey-templates.js';
import { addIsoDuration } from '../time/duration.js';
import type { EpochMs } from '../time/epoch.js';
import { nextWallClockTime } from '../time/wall-clock.js';
import { resolveZone } from '../time/zone.js';
import type { AwaitDecision, BranchDecision, SendDecision, StepDecision, WaitDecision } from './decision.js';
import { messageVisit, type MessageVisitRecord } from './message-visit.js';
import { allowedSendTime } from './send-time.js';

export interface StepContext {
  journeyId: string;
  version: number;
  userId: string;
  entryId: string;
  /** The user's attributes as they are now. */
  user: Readonly<Record<string, unknown>>;
  /** Properties of the event that moved this entry last (the trigger or an action path's event). */
  event?: Readonly<Record<string, unknown>> | undefined;
  now: EpochMs;
  /** The user's time zone attribute; defaults to `user.timezone`. Invalid zones fall back to the journey's. */
  timezoneAttr?: unknown;
  /** The entry's message records by step id: which visit of a message step this is, and how its message stands. */
  messages?: Readonly<Record<string, MessageVisitRecord>> | undefined;
  /** The token of the item being walked (walkEntry sets it): tells this visit of a step from earlier ones. */
  itemToken?: string | undefined;
  /** The item's own `user_update` step was applied already: the walk goes on past it. */
  updateApplied?: boolean | undefined;
}

/** A step id that a journey does not have: the journey was not validated, or the wrong version was loaded. */
export class UnknownStepError extends Error {
  override readonly name = 'UnknownStepError';
  constructor(
    readonly journeyId: string,
    readonly stepId: string,
  ) {
    super(`journey ${journeyId} has no step "${stepId}"`);
  }
}

/**
 * What a user entry does at `stepId` (null: the previous step ended the journey), as a function of the
 * journey, the user, the event and `now` only. The same inputs always give the same decision.
 * @throws UnknownStepError when the journey has no such step.
 */
export function planStep(journey: JourneyDefinition, stepId: string | null, context: StepContext): StepDecision {
  if (stepId === null) return { kind: 'end' };
  if (!Object.hasOwn(journey.steps, stepId)) throw new UnknownStepError(context.journeyId, stepId);
  const step = journey.steps[stepId] as JourneyDefinition['steps'][string];
  const zone = resolveZone(userTimezone(context), journey.settings.timezone);
  switch (step.type) {
    case 'message':
      return planMessage(journey, stepId, step, context);
    case 'delay':
      return planDelay(stepId, step, context.now, zone);
    case 'audience_split':
      return planAudienceSplit(stepId, step, context);
    case 'action_paths':
      return planActionPaths(stepId, step, context.now, zone);
    case 'experiment':
      return planExperiment(stepId, step, context);
    case 'user_update':
      return { kind: 'update', stepId, next: step.next };
    case 'exit':
      return { kind: 'exit', stepId };
  }
}

function userTimezone(context: StepContext): unknown {
  return context.timezoneAttr ?? context.user['timezone'];
}

function planMessage(journey: JourneyDefinition, stepId: string, step: MessageStep, context: StepContext): SendDecision {
  const visit = messageVisit(
    { journeyId: context.journeyId, userId: context.userId, entryId: context.entryId, stepId },
    context.messages?.[stepId],
    context.itemToken ?? '',
  );
  // A retry sends the very request its first attempt sent (kept in the record), whatever changed in the user since.
  const kept = visit.kind === 'retry' ? (context.messages?.[stepId]?.request ?? null) : null;
  const rendered = kept ? null : renderMessage(journey, stepId, step, { user: context.user, event: context.event });
  const request = kept ?? (rendered?.ok ? rendered.value : { method: step.webhook.method, url: '', headers: {}, payload: {} });
  return {
    kind: 'send',
    stepId,
    messageId: visit.messageId,
    visit,
    messageType: step.messageType,
    ...request,
    secret: step.webhook.secret ?? null,
    renderError: rendered && !rendered.ok ? rendered.error : null,
    notBefore: allowedSendTime(journey.settings, userTimezone(context), context.now),
    next: step.next,
  };
}

function planDelay(stepId: string, step: DelayStep, now: EpochMs, userZone: string): WaitDecision {
  let until: EpochMs;
  if (step.duration !== undefined) {
    until = addIsoDuration(now, step.duration, userZone);
  } else if (step.until !== undefined) {
    const zone = step.until.timezone === 'user' ? userZone : step.until.timezone;
    until = nextWallClockTime(now, step.until.time, zone);
  } else {
    throw new Error(`delay step "${stepId}" has neither duration nor until`);
  }
  return { kind: 'wait', stepId, until, next: step.next };
}

function planAudienceSplit(stepId: string, step: AudienceSplitStep, context: StepContext): BranchDecision {
  const filterContext = { user: context.user, event: context.event };
  const branch = step.branches.find((candidate) => evaluateFilter(candidate.when, filterContext));
  return branch === undefined
    ? { kind: 'branch', stepId, branchId: ELSE_BRANCH_ID, next: step.else }
    : { kind: 'branch', stepId, branchId: branch.id, next: branch.next };
}

function planActionPaths(stepId: string, step: ActionPathsStep, now: EpochMs, userZone: string): AwaitDecision {
  return { kind: 'await', stepId, deadline: addIsoDuration(now, step.window, userZone), paths: step.paths, timeout: step.timeout };
}

function planExperiment(stepId: string, step: ExperimentStep, context: StepContext): BranchDecision {
  const variant = assignVariant(step.variants, experimentSeed(context.journeyId, context.entryId, stepId));
  return { kind: 'branch', stepId, branchId: variant.id, next: variant.next };
}
