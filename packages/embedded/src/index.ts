export { provideServices, type Services } from './services.js';
export { startRedis, installRedisServer, findRedisServer, type EmbeddedRedis } from './redis-server.js';
export { startMongo, type EmbeddedMongo } from './mongo-server.js';
export { ensureFerretDb, FERRETDB_BUILD, FERRETDB_VERSION } from './ferretdb.js';
export { consoleLog, type ServiceLog } from './service-log.js';
export { freePort } from './process.js';
