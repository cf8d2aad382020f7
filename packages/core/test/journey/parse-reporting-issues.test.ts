import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parseReportingIssues, UserEventInputSchema } from '../../src/index.js';

describe('parseReportingIssues', () => {
  it('returns the parsed value of a valid input, defaults applied', () => {
    const schema = z.object({ name: z.string(), tags: z.array(z.string()).default([]) });
    expect(parseReportingIssues(schema, { name: 'a' })).toEqual({ ok: true, value: { name: 'a', tags: [] } });
  });

  it("words a failed input's issues with the journey error map, each at its path", () => {
    expect(parseReportingIssues(UserEventInputSchema, { name: '', extra: 1 })).toEqual({
      ok: false,
      issues: [
        { path: 'userId', message: 'is required' },
        { path: 'name', message: 'must not be empty' },
        { path: 'extra', message: 'unknown field "extra"' },
      ],
    });
  });
});
