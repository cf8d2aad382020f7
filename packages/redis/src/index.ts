export { createRedis, connectRedis, pingRedis, redisServerVersion } from './connection.js';
