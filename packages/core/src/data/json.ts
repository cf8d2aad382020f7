import { z } from 'zod';

// Written out by hand because a recursive type cannot be inferred through z.lazy; the schema below
// is annotated with it, so the two cannot drift apart.
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export const JsonValueSchema: z.ZodType<JsonValue> = z
  .union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(z.lazy(() => JsonValueSchema)),
    z.record(
      z.string(),
      z.lazy(() => JsonValueSchema),
    ),
  ])
  .meta({ id: 'JsonValue', description: 'Any JSON value.' });

export const JsonObjectSchema: z.ZodType<JsonObject> = z.record(z.string(), JsonValueSchema, {
  error: 'must be a JSON object',
});
