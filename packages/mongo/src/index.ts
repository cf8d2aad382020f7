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
