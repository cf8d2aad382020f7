import { z } from 'zod';

/** The contract's error body: every 4xx and 5xx answer has this shape. */
export const ErrorBodySchema = z
  .object({
    error: z.string().describe('What went wrong, for a person to read'),
    details: z
      .array(z.object({ path: z.string().describe('Dotted path of the offending field, e.g. steps.wait.duration'), message: z.string() }))
      .optional(),
  })
  .meta({
    id: 'Error',
    description: 'Every 4xx and 5xx answer. A 429 or 503 also carries `Retry-After` (seconds).',
    examples: [{ error: 'Invalid journey', details: [{ path: 'steps.wait.duration', message: 'must be an ISO 8601 duration' }] }],
  });

export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * What every route behind an API key can answer besides its own statuses: 401 no or bad key, 403 wrong scope,
 * 429 the key's requests of the minute are used up, 503 a store is down (both with `Retry-After`).
 */
export const KEYED_ROUTE_ERRORS = [401, 403, 429, 503] as const;

/** Response schemas for the error statuses a route can answer, for the OpenAPI document. */
export function errorResponses<const S extends readonly number[]>(...statuses: S): { [K in S[number]]: typeof ErrorBodySchema } {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBodySchema])) as { [K in S[number]]: typeof ErrorBodySchema };
}
