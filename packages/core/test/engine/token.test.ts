import { describe, expect, it } from 'vitest';
import { entryIdFor, EXIT_TOKEN, parseStepToken, stepToken } from '../../src/engine/token.js';

describe('step tokens', () => {
  it('encode the step sequence in base 36, with an optional branch', () => {
    expect(stepToken(0)).toBe('0');
    expect(stepToken(35)).toBe('z');
    expect(stepToken(36, 'timeout')).toBe('10.timeout');
    expect(parseStepToken('10.timeout')).toEqual({ seq: 36, branchId: 'timeout' });
    expect(parseStepToken('z')).toEqual({ seq: 35, branchId: undefined });
  });

  it('never equal the exit token', () => {
    for (let seq = 0; seq < 50_000; seq++) expect(stepToken(seq)).not.toBe(EXIT_TOKEN);
    expect(() => parseStepToken(EXIT_TOKEN)).toThrow(RangeError);
  });

  it('refuse what is not a token', () => {
    expect(() => stepToken(-1)).toThrow(RangeError);
    expect(() => stepToken(1.5)).toThrow(RangeError);
    expect(() => parseStepToken('')).toThrow(RangeError);
    expect(() => parseStepToken('A.b')).toThrow(RangeError);
  });
});

describe('entry ids', () => {
  it('are stable for the same cause and differ for others', () => {
    const id = entryIdFor('jrn_1', '1700000000000-0');
    expect(id).toMatch(/^[0-9a-z]{12}$/);
    expect(entryIdFor('jrn_1', '1700000000000-0')).toBe(id);
    expect(entryIdFor('jrn_1', '1700000000000-1')).not.toBe(id);
    expect(entryIdFor('jrn_2', '1700000000000-0')).not.toBe(id);
  });
});
