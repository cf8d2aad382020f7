export { connectMongo, pingMongo, type MongoStore } from './connection.js';
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
  type User,
  type UsersRepository,
} from './users-repository.js';
export {
  createJourneyStatesRepository,
  journeyStateId,
  JourneyStateStatusSchema,
  type EnterInput,
  type EnterResult,
  type JourneyState,
  type JourneyStateStatus,
  type JourneyStatesRepository,
  type StepCommit,
} from './journey-states-repository.js';
