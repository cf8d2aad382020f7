import { z } from 'zod';

/** The contract's error body: every 4xx and 5xx answer has this shape. */
export const ErrorBodySchema = z
  .object({
    error: z.string().describe('What went wrong, for a person to read'),
    details: z
      .array(z.object({ path: z.string().describe('Dotted path of the offending field, e.g. steps.wait.duration'), message: z.string() }))
      .optional(),
  })
  .meta({ id: 'Error', examples: [{ error: 'Invalid journey', details: [{ path: 'steps.wait.duration', message: 'must be an ISO 8601 duration' }] }] });

export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Response schemas for the error statuses a route can answer, for the OpenAPI document. */
export function errorResponses<const S extends readonly number[]>(...statuses: S): { [K in S[number]]: typeof ErrorBodySchema } {
  return Object.fromEntries(statuses.map((status) => [status, ErrorBodySchema])) as { [K in S[number]]: typeof ErrorBodySchema };
}
