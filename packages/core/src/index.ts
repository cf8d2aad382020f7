// The public API of @journey/core: pure journey decisions, no I/O. All instants are epoch milliseconds.

export type { JsonObject, JsonValue } from './data/json.js';
export { JsonObjectSchema, JsonValueSchema } from './data/json.js';
export { isRecord } from './data/is-record.js';
export { readPath } from './data/read-path.js';
export { groupBy } from './data/group-by.js';
export { formatBytes, jsonByteLength } from './data/json-size.js';
export { atMostBytes, atMostEntries, EVENT_LIMITS, USER_LIMITS } from './data/limits.js';
export {
  hasLoneSurrogate,
  LONE_SURROGATE_RULE,
  MAX_NESTING_DEPTH,
  nestingIssue,
  unstorableIssues,
  withoutLoneSurrogates,
} from './data/storable.js';

export {
  AllFilterSchema,
  AnyFilterSchema,
  EventConditionSchema,
  FILTER_OPERATORS,
  FilterOperatorSchema,
  FilterSchema,
  FilterValueSchema,
  NotFilterSchema,
  UserConditionSchema,
  operatorValueProblem,
} from './filter/schema.js';
export type { EventCondition, Filter, FilterOperator, FilterValue, UserCondition } from './filter/schema.js';
export { evaluateCondition, evaluateFilter } from './filter/evaluate.js';
export type { FilterContext } from './filter/evaluate.js';
export { toInstant } from './filter/date-value.js';

export {
  ActionPathSchema,
  ActionPathsStepSchema,
  ApiTriggerSchema,
  AudienceBranchSchema,
  AudienceSplitStepSchema,
  DelayStepSchema,
  DelayUntilSchema,
  EntrySchema,
  EventTriggerSchema,
  ExitSchema,
  ExitStepSchema,
  ExperimentStepSchema,
  ExperimentVariantSchema,
  FrequencyCapSchema,
  GoalSchema,
  UserUpdateStepSchema,
  WEBHOOK_METHODS,
  WebhookSchema,
  JourneyDefinitionSchema,
  MessageStepSchema,
  QuietHoursSchema,
  ReentrySchema,
  ScheduleTriggerSchema,
  SettingsSchema,
  StepSchema,
  TriggerSchema,
} from './journey/schema.js';
export type {
  ActionPath,
  ActionPathsStep,
  AudienceBranch,
  AudienceSplitStep,
  DelayStep,
  EventTrigger,
  ExitStep,
  ExperimentStep,
  ExperimentVariant,
  FrequencyCap,
  JourneyGoal,
  UserUpdateStep,
  Webhook,
  JourneyDefinition,
  JourneyDefinitionInput,
  JourneyEntry,
  JourneyExit,
  JourneySettings,
  MessageStep,
  QuietHours,
  Reentry,
  ScheduleTrigger,
  Step,
  StepType,
  Trigger,
} from './journey/schema.js';
export { STEP_TYPES, WAITING_STEP_TYPES } from './journey/step-types.js';
export { ELSE_BRANCH_ID, TIMEOUT_BRANCH_ID } from './journey/branch-ids.js';
export { ID_PATTERN } from './journey/ids.js';
export { JOURNEY_LIMITS } from './journey/limits.js';
export {
  ATTRIBUTE_NAME_PATTERN,
  AttributeNameSchema,
  CronSchema,
  HeaderNameSchema,
  RESERVED_HEADERS,
  IdSchema,
  IsoDateTimeSchema,
  IsoDurationSchema,
  SCHEDULE_RANGE,
  StepRefSchema,
  TimeOfDaySchema,
  TimeZoneSchema,
  WebhookUrlSchema,
} from './journey/fields.js';
export { stepReferences } from './journey/graph.js';
export { END_NODE_ID, journeyMap } from './journey/map.js';
export type { JourneyMap, MapEdge, MapNode } from './journey/map.js';
export type { StepReference } from './journey/graph.js';
export { validateJourney } from './journey/validate.js';
export type { JourneyValidation } from './journey/validate.js';
export { formatPath, journeyErrorMap, parseReportingIssues, toValidationIssues } from './journey/issues.js';
export type { ValidationIssue } from './journey/issues.js';
export { exampleJourney } from './journey/example.js';

export { stringifyForTemplate } from './template/render.js';
export {
  compileString,
  compileValue,
  hasMarkup,
  newRenderBudget,
  TEMPLATE_LIMITS,
  TemplateRenderError,
  templateProblem,
} from './template/liquid.js';
export type { TemplateKind, TemplateScope } from './template/liquid.js';
export { renderMessage, renderUpdate } from './template/journey-templates.js';
export type { Rendered, RenderedRequest, RenderedUpdate } from './template/journey-templates.js';
export { cronProblem, isCronOccurrence, nextCronOccurrence } from './time/cron.js';
export {
  isScheduleRun,
  KNOWN_ZONES,
  pastScheduleIssues,
  runIncludesUser,
  runIncludesZoneless,
  scheduledAt,
  scheduleRunCause,
  upcomingScheduleRuns,
} from './engine/schedule.js';
export type { ScheduleRun } from './engine/schedule.js';

export type { EpochMs } from './time/epoch.js';
export {
  addIsoDuration,
  isPositiveIsoDuration,
  isWithinMaxDuration,
  MAX_DURATION_ISO,
  parseIsoDuration,
  subtractIsoDuration,
} from './time/duration.js';
export { DEFAULT_JOURNEY_ZONE, isValidZone, resolveZone } from './time/zone.js';
export { parseTimeOfDay } from './time/time-of-day.js';
export type { TimeOfDay } from './time/time-of-day.js';
export { localTimeToInstant, nextWallClockTime } from './time/wall-clock.js';
export type { AmbiguousChoice, LocalDateTime } from './time/wall-clock.js';
export { applyQuietHours, isInQuietHours } from './time/quiet-hours.js';
export type { QuietHoursWindow } from './time/quiet-hours.js';

export { assignVariant, bucketOf, experimentSeed } from './experiment/assign.js';
export type { WeightedVariant } from './experiment/assign.js';

export { planStep, UnknownStepError } from './engine/plan-step.js';
export type { StepContext } from './engine/plan-step.js';
export type {
  AwaitDecision,
  BranchDecision,
  EndDecision,
  ExitDecision,
  SendDecision,
  StepDecision,
  WaitDecision,
} from './engine/decision.js';
export { actionPathTaken, actionPathsTimedOut, matchActionPath } from './engine/action-paths.js';
export type { JourneyEvent } from './engine/action-paths.js';
export { messageId } from './engine/message-id.js';
export { messageVisit, visitMessageId } from './engine/message-visit.js';
export type { MessageRecordStatus, MessageVisit, MessageVisitRecord } from './engine/message-visit.js';
export { nextAttemptAt } from './engine/delivery-retry.js';
export type { FailedAttempt, RetryPolicy } from './engine/delivery-retry.js';
export { conversionCounts, JOURNEY_TOTAL, messageCounts, STEP_COUNTERS, walkCounts } from './engine/step-counts.js';
export type { StepCount, StepCounter } from './engine/step-counts.js';
export { FREQUENCY_CAP_LOOKBACK_MS, frequencyCapWindowStart, isFrequencyCapped } from './engine/frequency-cap.js';
export { allowedSendTime } from './engine/send-time.js';
export { API_ENTRY, entryRefusal, isInAudience, mayReenter, shouldExit, triggerMatchesEvent } from './engine/entry.js';
export type { EntryCause, EntryRefusal } from './engine/entry.js';

export { EventIdSchema, IngestRecordSchema, MAX_EVENT_NAME_LENGTH, UserEventInputSchema, UserIdSchema } from './event/schema.js';
export type { IngestRecord, UserEventInput } from './event/schema.js';
export { entryIdFor, EXIT_TOKEN, parseStepToken, stepToken } from './engine/token.js';
export { walkEntry } from './engine/walk.js';
export { ENTRY_STATUSES, SEND_REASONS } from './engine/entry-state.js';
export type {
  ActionEvent,
  AwaitingStep,
  DueItem,
  EntryCommit,
  EntryPath,
  EntryState,
  EntryStatus,
  MessageRecord,
  ScheduledStep,
  SendReason,
} from './engine/entry-state.js';
export { decideEntry, FIRST_STEP_TOKEN, firstStep, pendingFirstStep } from './engine/entry-decision.js';
export type { EntryDecision } from './engine/entry-decision.js';
export { planRecord, versionKey } from './engine/record-plan.js';
export type { ActiveJourney, Entrant, RecordAction, RecordPlan, RecordPlanInput } from './engine/record-plan.js';
export { decideMember, LOCK_MARGIN_MS, pathOf, settleSend, skipReason, undeliverable } from './engine/settle.js';
export type {
  Delivery,
  DispatchItem,
  MemberDecision,
  MemberInput,
  MessageToSend,
  PendingSend,
  PendingUpdate,
  Settlement,
} from './engine/settle.js';
export type { NextItem, WalkOutcome, WalkResult } from './engine/walk.js';

export { signature, SIGNATURE_HEADER, TEST_HEADER, webhookRequest } from './message/webhook-request.js';
export type { WebhookRequest } from './message/webhook-request.js';
export { simulateEntry } from './simulation/simulate-entry.js';
export type { BranchReason, EntrySimulation, EntrySimulationInput, SimulatedEvent, TimelineEntry } from './simulation/simulate-entry.js';
export { simulateAudience } from './simulation/simulate-audience.js';
export type { AudienceSimulation, PathShare } from './simulation/simulate-audience.js';
