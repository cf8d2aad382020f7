export { connectMongo, pingMongo, type MongoStore } from './connection.js';
