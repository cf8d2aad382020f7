export { connectMongo, pingMongo, type MongoStore } from './connection.js';
export { documentRefusal, isMongoUnavailableError } from './store-errors.js';
export {
  ApiKeyScopeSchema,
  createApiKeysRepository,
  type ApiKey,
  type ApiKeyScope,
  type ApiKeysRepository,
  type ApiKeysRepositoryOptions,
  type CreatedApiKey,
} from './api-keys-repository.js';
export {
  AttributeNameSchema,
  compareStreamIds,
  createUsersRepository,
  previousStreamId,
  type User,
  type UsersRepository,
} from './users-repository.js';
export {
  createJourneyStatesRepository,
  journeyStateId,
  JourneyStateStatusSchema,
  toEntryState,
  MessageStatusSchema,
  SendReasonSchema,
  type ActionEvent,
  type ActionEventClaim,
  type AwaitingStep,
  type EnterInput,
  type EnterResult,
  type JourneyState,
  type JourneyStateStatus,
  type JourneyStatesRepository,
  type MessageOutcome,
  type MessageOutcomeInput,
  type MessageStatus,
  type SendReason,
  type StepCommit,
} from './journey-states-repository.js';
export { createJourneysRepository, type JourneysRepository, type JourneysRepositoryOptions } from './journeys-repository.js';
export {
  JOURNEY_STATUSES,
  JOURNEY_VERSION_STATUSES,
  JourneyIdSchema,
  JourneyStatusSchema,
  type Journey,
  type JourneyDraft,
  type JourneyStatus,
  type JourneySummary,
  type JourneyVersion,
  type JourneyVersionEntry,
  type JourneyVersionStatus,
  type JourneyWriteResult,
  type ListJourneysQuery,
  type WriteOptions,
} from './journey.js';
export { CorruptJourneyDocumentError } from './journey-documents.js';
export { JourneyCursorSchema } from './journey-cursor.js';
