export { buildApp } from './app.js';
export type { AppDeps } from './deps.js';
export { HttpError } from './plugins/error-handler.js';
