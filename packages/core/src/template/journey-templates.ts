import type { JsonObject, JsonValue } from '../data/json.js';
import type { JourneyDefinition, MessageStep, UserUpdateStep } from '../journey/schema.js';
import {
  compileString,
  compileValue,
  newRenderBudget,
  TemplateRenderError,
  type CompiledString,
  type CompiledValue,
  type TemplateScope,
} from './liquid.js';

/** A message step's request with its templates rendered for one user entry. */
export interface RenderedRequest {
  method: 'POST' | 'PUT' | 'PATCH';
  url: string;
  headers: Record<string, string>;
  payload: JsonObject;
}

/** A user_update step's change with its templates rendered. */
export interface RenderedUpdate {
  set: Record<string, JsonValue>;
  unset: string[];
}

export type Rendered<T> = { ok: true; value: T } | { ok: false; error: string };

interface CompiledMessage {
  url: CompiledString;
  headers: Array<readonly [string, CompiledString]>;
  payload: CompiledValue;
}

/**
 * Compiled templates per journey version, by step id. Published versions are immutable and the engine keeps one
 * definition object per version (the catalog's cache), so keying by that object compiles each version's templates
 * once per process; a definition that is dropped takes its compiled templates with it.
 */
const compiled = new WeakMap<JourneyDefinition, Map<string, CompiledMessage | CompiledValue>>();

function stepCache(journey: JourneyDefinition): Map<string, CompiledMessage | CompiledValue> {
  let steps = compiled.get(journey);
  if (!steps) {
    steps = new Map();
    compiled.set(journey, steps);
  }
  return steps;
}

function compiledMessage(journey: JourneyDefinition, stepId: string, step: MessageStep): CompiledMessage {
  const steps = stepCache(journey);
  let found = steps.get(stepId) as CompiledMessage | undefined;
  if (!found) {
    found = {
      url: compileString(step.webhook.url, 'webhook.url', 'url'),
      headers: Object.entries(step.webhook.headers ?? {}).map(
        ([name, value]) => [name, compileString(value, `webhook.headers.${name}`)] as const,
      ),
      payload: compileValue(step.payload, 'payload'),
    };
    steps.set(stepId, found);
  }
  return found;
}

// A header value may not break the request line: no control characters but tab (RFC 9110 field-value).
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const BAD_HEADER_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** The step's request for this scope; a template that fails or runs past its bounds is an error, never a throw. */
export function renderMessage(
  journey: JourneyDefinition,
  stepId: string,
  step: MessageStep,
  scope: TemplateScope,
): Rendered<RenderedRequest> {
  try {
    const message = compiledMessage(journey, stepId, step);
    const budget = newRenderBudget();
    const headers: Record<string, string> = {};
    for (const [name, value] of message.headers) {
      const rendered = value(scope, budget);
      if (BAD_HEADER_VALUE.test(rendered))
        throw new TemplateRenderError(`webhook.headers.${name}`, 'renders to a line break or control character');
      headers[name] = rendered;
    }
    return {
      ok: true,
      value: {
        method: step.webhook.method,
        url: message.url(scope, budget),
        headers,
        payload: message.payload(scope, budget) as JsonObject,
      },
    };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** The step's change for this scope (string values of `set` rendered). */
export function renderUpdate(
  journey: JourneyDefinition,
  stepId: string,
  step: UserUpdateStep,
  scope: TemplateScope,
): Rendered<RenderedUpdate> {
  try {
    const steps = stepCache(journey);
    let set = steps.get(stepId) as CompiledValue | undefined;
    if (!set) {
      set = compileValue(step.set, 'set');
      steps.set(stepId, set);
    }
    return { ok: true, value: { set: set(scope, newRenderBudget()) as Record<string, JsonValue>, unset: [...step.unset] } };
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}
