import type { FastifyRouteSchemaDef, FastifyValidationResult } from 'fastify/types/schema.js';
import { validatorCompiler } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** What a body check gives Fastify: the value the handler gets, or the error (an HttpError: the contract's 400). */
export type BodyCheck = (body: unknown) => { value: unknown } | { error: Error };

/**
 * A route's validator compiler whose body goes through `check` instead of the body schema, while params, query
 * and headers go through their zod schemas as everywhere else. For bodies whose answer is more than pass or fail
 * (a batch whose bad items are reported, not refused); the body schema still documents the body and types the
 * handler, so `check` must return what that schema's output promises. Generic because Fastify types a route's
 * compiler by the whole route schema, while at run time it is called once per part with that part's schema.
 */
export function bodyCheckValidator(check: BodyCheck) {
  return function compile<S>(route: FastifyRouteSchemaDef<S>): FastifyValidationResult {
    if (route.httpPart === 'body') return check;
    const { schema } = route;
    if (!(schema instanceof z.core.$ZodType))
      throw new TypeError(`${route.method} ${route.url}: the ${route.httpPart} schema is not a zod schema`);
    return validatorCompiler({ ...route, schema });
  };
}
