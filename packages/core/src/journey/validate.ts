import { journeyErrorMap, toValidationIssues, type ValidationIssue } from './issues.js';
import { JourneyDefinitionSchema, type JourneyDefinition } from './schema.js';

export type JourneyValidation = { ok: true; journey: JourneyDefinition } | { ok: false; issues: ValidationIssue[] };

/**
 * Checks a submitted journey against the whole contract (shape, formats, references, reachability,
 * loops, weights) and reports every problem at once, each at a dotted path. On success `journey` has
 * defaults filled in. Never throws.
 */
export function validateJourney(input: unknown): JourneyValidation {
  const result = JourneyDefinitionSchema.safeParse(input, { error: journeyErrorMap });
  if (result.success) return { ok: true, journey: result.data };
  return { ok: false, issues: toValidationIssues(result.error.issues, input) };
}
