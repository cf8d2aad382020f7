import type { FastifyReply } from 'fastify';
import { HttpError } from '../plugins/error-handler.js';
import { RETRY_AFTER_SECONDS } from '../plugins/store-errors.js';

/**
 * A Redis 503 in the contract's error body, with `Retry-After`, for a route that says more than the error
 * handler can (what was or was not stored): Redis is down, the request itself was fine.
 */
export function serviceUnavailable(reply: FastifyReply, message: string): HttpError {
  reply.header('retry-after', String(RETRY_AFTER_SECONDS.Redis));
  return new HttpError(503, message);
}
