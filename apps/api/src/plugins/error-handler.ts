import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.js';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import type { ErrorBody } from '../schemas/error.js';
import { documentRefusal, RETRY_AFTER_SECONDS, unavailableStore } from './store-errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The route stores its body as the client sent it: the store refusing that document for its content is
     * the body's fault, a 400, not a 500.
     */
    storesBody?: boolean;
  }
}

/** An expected failure a handler reports: it becomes a 4xx with the contract's error body. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: ErrorBody['details'],
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

function dotted(path: ReadonlyArray<PropertyKey> | string | undefined): string {
  if (path === undefined) return '';
  if (typeof path === 'string') return path.replace(/^\//, '').replaceAll('/', '.');
  return path.map(String).join('.');
}

/** Fastify's own client-error codes, mapped to the contract's statuses and messages. */
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; message: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, message: 'Request body is too large' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, message: 'Request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, message: 'Request body is empty but Content-Type is application/json' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, message: 'Unsupported Content-Type: send application/json' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, message: 'Content-Length does not match the body' },
  FST_ERR_CTP_EMPTY_TYPE: { status: 415, message: 'Content-Type header is empty' },
};

/** At most this many problems are listed in `details`; the message says how many there were in all. */
const MAX_DETAILS = 100;

function errorReply(reply: FastifyReply, status: number, error: string, details?: ErrorBody['details']): FastifyReply {
  if (details && details.length > MAX_DETAILS) {
    return reply.code(status).send({
      error: `${error} (the first ${MAX_DETAILS} of ${details.length} problems)`,
      details: details.slice(0, MAX_DETAILS),
    } satisfies ErrorBody);
  }
  return reply.code(status).send({ error, ...(details ? { details } : {}) } satisfies ErrorBody);
}

/**
 * One place turns every thrown error into the contract's error body. Bad input is always a 4xx that names
 * the field; anything else is a 500 that is logged in full and shows no internals. Routes of plugins that set
 * their own error handler (the dashboard) are given this one per route.
 */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const where = error.validationContext ?? 'body';
    const details = error.validation.flatMap((issue) => {
      const path = dotted(issue.instancePath);
      const at = path ? `${where}.${path}` : where;
      // zod reports unknown fields at the object that holds them; the contract names each field instead.
      const unknownKeys = issue.keyword === 'unrecognized_keys' ? issue.params.keys : undefined;
      if (Array.isArray(unknownKeys))
        return unknownKeys.map((key) => ({ path: `${at}.${String(key)}`, message: 'is not an accepted field' }));
      return [{ path: at, message: issue.message ?? 'is invalid' }];
    });
    return errorReply(reply, 400, `Invalid request ${where}`, details);
  }
  if (error instanceof HttpError) return errorReply(reply, error.statusCode, error.message, error.details);
  // A validator that recursed out of stack on a deeply nested body: Fastify marks it a 500, but the input is at fault.
  if (error instanceof RangeError && error.validationContext) {
    return reply.code(400).send({ error: `Request ${error.validationContext} is nested too deeply` } satisfies ErrorBody);
  }
  const refusal = request.routeOptions.config.storesBody ? documentRefusal(error) : null;
  if (refusal !== null) {
    request.log.info({ err: error }, 'the database refused the request body');
    return reply.code(400).send({
      error: 'The database cannot store the request body',
      details: [{ path: 'body', message: `cannot be stored: ${refusal}` }],
    } satisfies ErrorBody);
  }
  const store = unavailableStore(error);
  if (store !== null) {
    request.log.warn({ err: error }, `${store} is unavailable`);
    const changed = request.method === 'GET' || request.method === 'HEAD' ? '' : ' The change may or may not have been made.';
    reply.header('retry-after', String(RETRY_AFTER_SECONDS[store]));
    return errorReply(reply, 503, `${store} is unavailable: try again later.${changed}`);
  }
  const known = error.code ? FASTIFY_CLIENT_ERRORS[error.code] : undefined;
  if (known) return reply.code(known.status).send({ error: known.message } satisfies ErrorBody);
  if (error instanceof SyntaxError) return reply.code(400).send({ error: 'Request body is not valid JSON' } satisfies ErrorBody);
  if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
    return reply.code(error.statusCode).send({ error: error.message } satisfies ErrorBody);
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: error, issues: error.cause.issues }, 'response does not match its schema');
  } else {
    request.log.error({ err: error }, 'unhandled error');
  }
  return reply.code(500).send({ error: 'Internal server error' } satisfies ErrorBody);
}

/**
 * Errors Fastify meets before a route is chosen (`frameworkErrors`): a path whose percent-encoding is malformed or
 * not UTF-8 (400), a path parameter over the router's limit (414).
 */
export function handleFrameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): FastifyReply {
  switch (error.code) {
    case 'FST_ERR_BAD_URL':
      return errorReply(reply, 400, 'The URL is not valid: a percent-encoding is malformed or does not decode to UTF-8');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return errorReply(reply, 414, 'A path parameter of the URL is too long');
    default:
      return errorReply(reply, 500, 'Internal server error');
  }
}

const HTTP_REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (`clientErrorHandler`): headers too large (431), a
 * request timeout (408), anything unparseable (400). Written to the socket as Fastify's own handler does, with
 * the contract's body.
 */
export function handleClientError(error: Error & { code?: string }, socket: Duplex): void {
  // A reset connection, or one already gone, has no one to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'The request headers are too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request took too long to arrive']
        : [400, 'The request is not valid HTTP'];
  const body = JSON.stringify({ error: message } satisfies ErrorBody);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${HTTP_REASONS[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

export function registerErrorHandler(app: App): void {
  app.setErrorHandler(handleError);

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ error: `Route ${request.method} ${request.url.split('?')[0]} not found` } satisfies ErrorBody);
  });
}
