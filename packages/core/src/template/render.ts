import { readPath } from '../data/read-path.js';
import type { JsonObject, JsonValue } from '../data/json.js';

export interface TemplateContext {
  /** The user's attributes, read by `{{user.X}}`. */
  user: Readonly<Record<string, unknown>>;
  /** The properties of the event being handled, read by `{{event.X}}`. */
  event?: Readonly<Record<string, unknown>> | undefined;
}

// `{{ user.address.city }}`: whitespace inside the braces is allowed; other roots are not ours and stay as written.
const PLACEHOLDER = /\{\{\s*(user|event)\.([^\s{}]+)\s*\}\}/g;

/** `template` with every `{{user.X}}` / `{{event.X}}` replaced; missing values become "". */
export function renderString(template: string, context: TemplateContext): string {
  return template.replace(PLACEHOLDER, (_match, root: 'user' | 'event', path: string) =>
    stringifyForTemplate(readPath(root === 'user' ? context.user : context.event, path)),
  );
}

/** A copy of `value` with every string inside it (at any depth) rendered; keys are left as they are. */
export function renderValue(value: JsonValue, context: TemplateContext): JsonValue {
  if (typeof value === 'string') return renderString(value, context);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, context));
  if (value !== null && typeof value === 'object') return renderPayload(value, context);
  return value;
}

export function renderPayload(payload: JsonObject, context: TemplateContext): JsonObject {
  const rendered: JsonObject = {};
  for (const [key, value] of Object.entries(payload)) rendered[key] = renderValue(value, context);
  return rendered;
}

/**
 * How a value reads inside text: strings as they are, numbers and booleans as written, dates as ISO
 * 8601, objects and arrays as JSON, and nothing ("") for missing, null or unprintable values.
 */
export function stringifyForTemplate(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (typeof value === 'object') {
    try {
      return JSON.stringify(value) ?? '';
    } catch {
      return ''; // cycles or BigInts deep inside
    }
  }
  return '';
}
