export { provideRedisCluster, provideServices, type Services } from './services.js';
export { startRedisCluster, type EmbeddedRedisCluster } from './redis-cluster.js';
export { startRedis, installRedisServer, findRedisServer, type EmbeddedRedis } from './redis-server.js';
export { startMongo, type EmbeddedMongo } from './mongo-server.js';
export { startJavaStore, mongoJavaServerVersion, type JavaStore } from './java-store.js';
export { consoleLog, type ServiceLog } from './service-log.js';
export { freePort } from './process.js';
export { ensureChromium, findChromium } from './chromium.js';
