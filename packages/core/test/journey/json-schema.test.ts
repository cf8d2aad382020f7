import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FilterSchema } from '../../src/filter/schema.js';
import { exampleJourney } from '../../src/journey/example.js';
import { JourneyDefinitionSchema, StepSchema, TriggerSchema } from '../../src/journey/schema.js';

type JsonSchema = { $ref?: string; $defs?: Record<string, Record<string, unknown>> } & Record<string, unknown>;

describe('JSON Schema for OpenAPI', () => {
  it.each(['input', 'output'] as const)('generates the journey schema (%s) with named, reusable definitions', (io) => {
    const schema = z.toJSONSchema(JourneyDefinitionSchema, { io }) as JsonSchema;
    expect(schema.$ref).toBe('#/$defs/JourneyDefinition');
    expect(Object.keys(schema.$defs ?? {})).toEqual(
      expect.arrayContaining([
        'JourneyDefinition',
        'Filter',
        'Trigger',
        'Step',
        'JourneySettings',
        'MessageStep',
        'DelayStep',
        'AudienceSplitStep',
        'ActionPathsStep',
        'ExperimentStep',
        'ExitStep',
      ]),
    );
  });

  it('turns the recursive filter into a $ref to itself', () => {
    const schema = z.toJSONSchema(FilterSchema) as JsonSchema;
    const filter = JSON.stringify(schema.$defs?.['Filter']);
    expect(filter).toContain('"items":{"$ref":"#/$defs/Filter"}');
    expect(filter).toContain('"not":{"$ref":"#/$defs/Filter"}');
  });

  it('carries descriptions and the contract example', () => {
    const schema = z.toJSONSchema(JourneyDefinitionSchema, { io: 'input' }) as JsonSchema;
    const journey = schema.$defs?.['JourneyDefinition'];
    expect(journey?.['examples']).toEqual([exampleJourney]);
    expect(journey?.['description']).toMatch(/graph of steps/);
    expect(journey?.['additionalProperties']).toBe(false);
    expect(JSON.stringify(journey?.['properties'])).toContain('"propertyNames":{"type":"string","pattern":"^[A-Za-z0-9_-]{1,64}$"}');
  });

  it('describes the step and trigger unions by their discriminator', () => {
    const steps = z.toJSONSchema(StepSchema) as JsonSchema;
    const triggers = z.toJSONSchema(TriggerSchema) as JsonSchema;
    expect(JSON.stringify(steps)).toContain('"const":"action_paths"');
    expect(JSON.stringify(triggers)).toContain('"format":"date-time"');
  });
});
