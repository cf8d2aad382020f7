import { Liquid, type Template } from 'liquidjs';
import type { JsonValue } from '../data/json.js';
import { stringifyForTemplate } from './render.js';

/**
 * Liquid templates (liquidjs) in journey strings: `{{ user.firstName | default: "there" }}`, `{% if %}`, loops and
 * filters on `user.*` (attributes) and `event.*` (the trigger event's or the API entry's properties). Templates are
 * parsed when a journey is validated and compiled once per journey version (see journeyTemplates), never per send.
 */

/** How far one rendering may go: a template is the journey author's, but the data it loops over is the users'. */
export const TEMPLATE_LIMITS = {
  /** Wall time of one string's rendering (liquidjs checks it between template nodes). */
  renderMs: 100,
  /** liquidjs' count of allocations by memory-heavy filters and loops, per string. */
  memory: 1_000_000,
  /** Characters one rendered string may have. */
  outputChars: 64 * 1024,
  /** Characters all strings of one rendered message (or update) may have together. */
  totalChars: 256 * 1024,
} as const;

/** `text`: values as they read (objects as JSON); `url`: each output URL-encoded, for values inside a URL. */
export type TemplateKind = 'text' | 'url';

/** What templates read: `user.*` and `event.*`. */
export interface TemplateScope {
  user: Readonly<Record<string, unknown>>;
  event?: Readonly<Record<string, unknown>> | undefined;
}

/** A rendering that went past a bound or failed in a filter; `path` names the string (e.g. `payload.text`). */
export class TemplateRenderError extends Error {
  override readonly name = 'TemplateRenderError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
  }
}

function engine(escape: (value: unknown) => string): Liquid {
  // ownPropertyOnly: `{{ user.constructor }}` reads nothing inherited. strictFilters: a misspelt filter is a
  // publish-time 400, not a blank at send time. Unknown variables stay blank, as `{{user.lastName}}` always was.
  return new Liquid({
    ownPropertyOnly: true,
    strictFilters: true,
    renderLimit: TEMPLATE_LIMITS.renderMs,
    memoryLimit: TEMPLATE_LIMITS.memory,
    outputEscape: escape,
  });
}

const ENGINES: Record<TemplateKind, Liquid> = {
  text: engine(stringifyForTemplate),
  url: engine((value) => encodeURIComponent(stringifyForTemplate(value))),
};

/** Whether a string holds Liquid markup at all: plain strings are used as they are, without a parse. */
export function hasMarkup(source: string): boolean {
  return source.includes('{{') || source.includes('{%');
}

/** Liquid's complaint about `source`, or null when it parses (unknown filters and unclosed tags included). */
export function templateProblem(source: string, kind: TemplateKind = 'text'): string | null {
  if (!hasMarkup(source)) return null;
  try {
    ENGINES[kind].parse(source);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** Characters left for one rendering of a message or an update: every string it renders draws on it. */
export interface RenderBudget {
  chars: number;
}

export const newRenderBudget = (): RenderBudget => ({ chars: TEMPLATE_LIMITS.totalChars });

/** A compiled JSON value: call it with a scope to get the value with every string rendered. */
export type CompiledValue = (scope: TemplateScope, budget: RenderBudget) => JsonValue;
export type CompiledString = (scope: TemplateScope, budget: RenderBudget) => string;

/** Compiles one string; a plain one renders to itself. @throws when it does not parse (validation refuses that first). */
export function compileString(source: string, path: string, kind: TemplateKind = 'text'): CompiledString {
  if (!hasMarkup(source)) {
    return (_scope, budget) => spend(budget, source, path);
  }
  const liquid = ENGINES[kind];
  const templates: Template[] = liquid.parse(source);
  return (scope, budget) => {
    let output: string;
    try {
      output = liquid.renderSync(templates, { user: scope.user, event: scope.event ?? {} }) as string;
    } catch (error) {
      throw new TemplateRenderError(path, error instanceof Error ? error.message : String(error));
    }
    if (output.length > TEMPLATE_LIMITS.outputChars) {
      throw new TemplateRenderError(path, `renders to more than ${TEMPLATE_LIMITS.outputChars} characters`);
    }
    return spend(budget, output, path);
  };
}

/** Compiles every string inside a JSON value (keys are left as they are). */
export function compileValue(value: JsonValue, path: string): CompiledValue {
  if (typeof value === 'string') return compileString(value, path);
  if (Array.isArray(value)) {
    const items = value.map((item, index) => compileValue(item, `${path}.${index}`));
    return (scope, budget) => items.map((item) => item(scope, budget));
  }
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).map(([key, item]) => [key, compileValue(item, `${path}.${key}`)] as const);
    return (scope, budget) => {
      const rendered: Record<string, JsonValue> = {};
      for (const [key, field] of fields) rendered[key] = field(scope, budget);
      return rendered;
    };
  }
  return () => value;
}

function spend(budget: RenderBudget, output: string, path: string): string {
  budget.chars -= output.length;
  if (budget.chars < 0) throw new TemplateRenderError(path, `the message renders to more than ${TEMPLATE_LIMITS.totalChars} characters`);
  return output;
}

/** Every template problem inside a JSON value, at its path relative to `path`. */
export function valueTemplateProblems(
  value: unknown,
  path: Array<string | number>,
): Array<{ path: Array<string | number>; message: string }> {
  if (typeof value === 'string') {
    const problem = templateProblem(value);
    return problem === null ? [] : [{ path, message: `is not a valid Liquid template: ${problem}` }];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => valueTemplateProblems(item, [...path, index]));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([key, item]) => valueTemplateProblems(item, [...path, key]));
  }
  return [];
}
