import { describe, expect, it } from 'vitest';
import { stringifyForTemplate } from '../../src/template/render.js';

describe('stringifyForTemplate', () => {
  it('never throws on odd values', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(stringifyForTemplate(cyclic)).toBe('');
    expect(stringifyForTemplate(10n)).toBe('10');
    expect(stringifyForTemplate(new Date('invalid'))).toBe('');
    expect(stringifyForTemplate(Symbol('s'))).toBe('');
    expect(stringifyForTemplate(undefined)).toBe('');
  });
});
