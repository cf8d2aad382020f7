import rateLimit from '@fastify/rate-limit';
import type { App } from '../app.js';
import { HttpError } from './error-handler.js';

/**
 * At most `perMinute` requests per API key and minute (fixed windows, counted in this process); 0 turns it off.
 * Keyed by the key that authenticated the request, so it runs after the auth hook: public routes, and requests
 * refused for their key, are not counted. Past the limit: 429 in the contract's body, with Retry-After and the
 * x-ratelimit-* headers.
 */
export async function registerRateLimit(app: App, perMinute: number): Promise<void> {
  if (perMinute === 0) return;
  await app.register(rateLimit, {
    max: perMinute,
    timeWindow: 60_000,
    allowList: (request) => request.apiKey === null,
    keyGenerator: (request) => request.apiKey?.id ?? '',
    errorResponseBuilder: (_request, context) =>
      new HttpError(429, `Rate limit exceeded: at most ${context.max} requests per minute per API key; retry in ${context.after}`),
  });
}
