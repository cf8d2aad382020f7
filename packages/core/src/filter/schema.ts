import { z } from 'zod';
import { toInstant } from './date-value.js';

export const FILTER_OPERATORS = ['eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'exists', 'contains'] as const;

export const FilterOperatorSchema = z.enum(FILTER_OPERATORS).meta({
  id: 'FilterOperator',
  description:
    'eq/ne: equal or not; gt/gte/lt/lte: numbers or ISO dates; in/nin: one of a list or not; ' +
    'exists: attribute present (true) or absent (false); contains: substring of a string or member of a list.',
});
export type FilterOperator = z.infer<typeof FilterOperatorSchema>;

const FilterScalarSchema = z.union([z.string(), z.number(), z.boolean()]);

export const FilterValueSchema = z.union([FilterScalarSchema, z.array(FilterScalarSchema)], {
  error: 'must be a string, number, boolean, or an array of them',
});
export type FilterValue = z.infer<typeof FilterValueSchema>;

export const ATTRIBUTE_PATH_PATTERN = /^[^.\s]+(?:\.[^.\s]+)*$/;
const AttributePathSchema = z
  .string()
  .regex(ATTRIBUTE_PATH_PATTERN, 'must be an attribute name or dotted path like "plan" or "address.city"');

/** Why `value` cannot be used with `op`, or null when it fits. */
export function operatorValueProblem(op: FilterOperator, value: unknown): string | null {
  switch (op) {
    case 'eq':
    case 'ne':
      return Array.isArray(value) ? `operator "${op}" compares with one value; use "in" or "nin" for a list` : null;
    case 'in':
    case 'nin':
      return Array.isArray(value) && value.length > 0 ? null : `operator "${op}" needs a non-empty array of values, like ["US", "CA"]`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return (typeof value === 'number' && Number.isFinite(value)) || toInstant(value) !== null
        ? null
        : `operator "${op}" needs a number or an ISO 8601 date like "2024-01-31" or "2024-01-31T09:00:00Z"`;
    case 'exists':
      return typeof value === 'boolean' ? null : `operator "exists" needs true (present) or false (absent)`;
    case 'contains':
      return Array.isArray(value)
        ? `operator "contains" needs one string (substring or list member) or one number or boolean (list member)`
        : null;
  }
}

function checkOperatorValue(condition: { op: FilterOperator; value: FilterValue }, ctx: z.RefinementCtx): void {
  const problem = operatorValueProblem(condition.op, condition.value);
  if (problem !== null) ctx.addIssue({ code: 'custom', path: ['value'], message: problem, input: condition.value });
}

export const UserConditionSchema = z
  .strictObject({ attr: AttributePathSchema, op: FilterOperatorSchema, value: FilterValueSchema })
  .superRefine(checkOperatorValue)
  .meta({
    id: 'UserCondition',
    description: 'Tests a user attribute (dotted paths reach nested attributes).',
    examples: [{ attr: 'country', op: 'in', value: ['US', 'CA'] }],
  });
export type UserCondition = z.infer<typeof UserConditionSchema>;

export const EventConditionSchema = z
  .strictObject({ prop: AttributePathSchema, op: FilterOperatorSchema, value: FilterValueSchema })
  .superRefine(checkOperatorValue)
  .meta({
    id: 'EventCondition',
    description: 'Tests a property of the event being handled.',
    examples: [{ prop: 'source', op: 'ne', value: 'test' }],
  });
export type EventCondition = z.infer<typeof EventConditionSchema>;

const FILTER_SHAPES = 'a filter: { attr | prop, op, value }, { all: [...] }, { any: [...] } or { not: {...} }';

// Getters make the recursion lazy for zod 4 and turn it into a `$ref` in JSON Schema.
export const AllFilterSchema = z.strictObject({
  get all(): z.ZodArray<typeof FilterSchema> {
    return z.array(FilterSchema);
  },
});
export const AnyFilterSchema = z.strictObject({
  get any(): z.ZodArray<typeof FilterSchema> {
    return z.array(FilterSchema);
  },
});
export const NotFilterSchema = z.strictObject({
  get not(): typeof FilterSchema {
    return FilterSchema;
  },
});

export const FilterSchema = z
  .union([UserConditionSchema, EventConditionSchema, AllFilterSchema, AnyFilterSchema, NotFilterSchema], {
    error: (issue) => (issue.input === undefined ? `is required: ${FILTER_SHAPES}` : `must be ${FILTER_SHAPES}`),
  })
  .meta({
    id: 'Filter',
    description:
      'A condition on a user attribute (`attr`) or event property (`prop`), or a combination: `all` (every one ' +
      'matches; true when empty), `any` (at least one matches; false when empty), `not`.',
    examples: [{ all: [{ attr: 'country', op: 'in', value: ['US', 'CA'] }, { not: { attr: 'plan', op: 'eq', value: 'free' } }] }],
  });
export type Filter = z.infer<typeof FilterSchema>;
