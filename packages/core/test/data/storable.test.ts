import { describe, expect, it } from 'vitest';
import { exampleJourney, hasLoneSurrogate, MAX_NESTING_DEPTH, nestingIssue, unstorableIssues } from '../../src/index.js';

describe('storability', () => {
  it('names every field name MongoDB cannot store', () => {
    expect(unstorableIssues({ ok: { fine: [{ $bad: 1 }] }, 'a.b': { 'c\u0000': 2 } })).toEqual(
      expect.arrayContaining([
        { path: 'ok.fine.0.$bad', message: expect.stringContaining('"$bad"') },
        { path: 'a.b', message: expect.stringContaining('"a.b"') },
        { path: 'a.b.c\u0000', message: expect.any(String) },
      ]),
    );
    expect(unstorableIssues(exampleJourney)).toEqual([]);
    expect(unstorableIssues('not an object')).toEqual([]);
  });

  it('stores nested arrays and empty field names, as MongoDB does', () => {
    expect(unstorableIssues({ matrix: [[1, 2], [[3]]], '': 'empty name', list: [{ a: [[]] }] })).toEqual([]);
  });

  it('refuses lone surrogates in field names and strings, which UTF-8 cannot hold, and keeps well-formed pairs', () => {
    expect(unstorableIssues({ ok: 'emoji \ud83d\ude00', bad: 'a\ud800', list: ['x', 'b\udc00'], ['k\ud800']: 1 })).toEqual(
      expect.arrayContaining([
        { path: 'bad', message: expect.stringContaining('lone UTF-16 surrogate') },
        { path: 'list.1', message: expect.stringContaining('lone UTF-16 surrogate') },
        { path: 'k\ud800', message: expect.stringMatching(/^field name .*lone UTF-16 surrogate/) },
      ]),
    );
    expect(unstorableIssues({ ok: 'emoji \ud83d\ude00' })).toEqual([]);
    expect(unstorableIssues('\udfff')).toEqual([{ path: '', message: expect.stringContaining('lone') }]);
    expect(hasLoneSurrogate('\ud83d\ude00')).toBe(false);
    expect(hasLoneSurrogate('\ude00\ud83d')).toBe(true);
  });

  it('finds nesting beyond the limit without recursing', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100_000; i += 1) deep = [deep];
    const path = Array(MAX_NESTING_DEPTH).fill('0').join('.');
    expect(nestingIssue(deep)).toEqual({ path, message: expect.stringContaining('nested too deeply') });
    expect(unstorableIssues(deep)).toEqual([{ path, message: expect.stringContaining('nested too deeply') }]);
    let shallow: unknown = 'leaf';
    for (let i = 0; i < MAX_NESTING_DEPTH; i += 1) shallow = { x: shallow };
    expect(nestingIssue(shallow)).toBeNull();
  });
});
