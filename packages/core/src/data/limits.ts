import { type z } from 'zod';
import { formatBytes, jsonByteLength } from './json-size.js';

/**
 * How much a user and an event may carry. Attributes live in one document per user that every dispatch
 * reads, and an event's properties travel through Redis into the user's journey state; unbounded, one client
 * could make every read of that user slow (a store's update cost grows with the square of the fields it sets).
 */
export const USER_LIMITS = {
  /** Attributes a user holds, and so names one request may set. */
  attributes: 500,
  /** One attribute's value, as JSON in UTF-8. */
  attributeValueBytes: 8 * 1024,
} as const;

export const EVENT_LIMITS = {
  /** Top-level properties of one event. */
  properties: 500,
  /** All properties of one event, as JSON in UTF-8. */
  propertiesBytes: 32 * 1024,
} as const;

/** `schema` (a JSON object) with at most `max` top-level entries, named `what` in the message. */
export function atMostEntries<S extends z.ZodType<Record<string, unknown>>>(schema: S, max: number, what: string) {
  return schema.refine((value) => Object.keys(value).length <= max, `may have at most ${max} ${what}`).meta({ maxProperties: max });
}

/** `schema` with values of at most `maxBytes` as JSON in UTF-8. */
export function atMostBytes<S extends z.ZodType>(schema: S, maxBytes: number) {
  return schema.refine((value) => jsonByteLength(value) <= maxBytes, `must be at most ${formatBytes(maxBytes)} as JSON`);
}
