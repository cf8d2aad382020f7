import type { FastifyReply } from 'fastify';
import { HttpError } from '../plugins/error-handler.js';

/** Seconds a client should wait before retrying a 503: Redis reconnects within about two seconds. */
const RETRY_AFTER_SECONDS = 2;

/** A 503 in the contract's error body, with `Retry-After`: the store is down, the request itself was fine. */
export function serviceUnavailable(reply: FastifyReply, message: string): HttpError {
  reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  return new HttpError(503, message);
}
