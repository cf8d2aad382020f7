import { parseReportingIssues, type ValidationIssue } from './issues.js';
import { JourneyDefinitionSchema, type JourneyDefinition } from './schema.js';

export type JourneyValidation = { ok: true; journey: JourneyDefinition } | { ok: false; issues: ValidationIssue[] };

/**
 * Checks a submitted journey against the whole contract (shape, formats, references, reachability,
 * loops, weights) and reports every problem at once, each at a dotted path. On success `journey` has
 * defaults filled in. Never throws.
 */
export function validateJourney(input: unknown): JourneyValidation {
  const result = parseReportingIssues(JourneyDefinitionSchema, input);
  return result.ok ? { ok: true, journey: result.value } : { ok: false, issues: result.issues };
}
