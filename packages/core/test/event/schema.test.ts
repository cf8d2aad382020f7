import { describe, expect, it } from 'vitest';
import { IngestRecordSchema, UserEventInputSchema, UserIdSchema } from '../../src/index.js';

describe('user event input', () => {
  it('accepts the minimal and the full event', () => {
    expect(UserEventInputSchema.safeParse({ userId: 'u1', name: 'signed_up' }).success).toBe(true);
    const full = { id: 'e1', userId: 'u1', name: 'purchased', time: '2026-11-22T09:30:00+01:00', properties: { item: 'hat', n: [1, 2] } };
    expect(UserEventInputSchema.parse(full)).toEqual(full);
  });

  it.each([
    [{ name: 'x' }, 'userId'],
    [{ userId: '', name: 'x' }, 'userId'],
    [{ userId: 'a|b', name: 'x' }, 'userId'],
    [{ userId: 'a\nb', name: 'x' }, 'userId'],
    [{ userId: 'x'.repeat(129), name: 'x' }, 'userId'],
    [{ userId: 'a\ud800', name: 'x' }, 'userId'],
    [{ userId: 'u', name: 'x\udc00' }, 'name'],
    [{ userId: 'u', name: 'x', id: '\udbff' }, 'id'],
    [{ userId: 'u', name: '' }, 'name'],
    [{ userId: 'u', name: 'x', time: 'yesterday' }, 'time'],
    [{ userId: 'u', name: 'x', time: '2026-11-22T09:30:00' }, 'time'],
    [{ userId: 'u', name: 'x', properties: [1] }, 'properties'],
    [{ userId: 'u', name: 'x', properties: Object.fromEntries(Array.from({ length: 501 }, (_, i) => [`p${i}`, i])) }, 'properties'],
    [{ userId: 'u', name: 'x', properties: { text: '\u20ac'.repeat(11 * 1024) } }, 'properties'],
    [{ userId: 'u', name: 'x', id: '' }, 'id'],
    [{ userId: 'u', name: 'x', extra: 1 }, ''],
  ])('rejects %j at %s', (input, path) => {
    const result = UserEventInputSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path.join('.')).toBe(path);
  });

  it('keeps well-formed surrogate pairs in ids', () => {
    expect(UserIdSchema.safeParse('emoji-\ud83d\ude00').success).toBe(true);
  });

  it('keeps "|" out of user ids', () => {
    expect(UserIdSchema.safeParse('tenant|42').error?.issues[0]?.message).toContain('"|"');
  });
});

describe('ingest records', () => {
  it('parses each record type and refuses unknown ones', () => {
    expect(IngestRecordSchema.parse({ type: 'event', id: 'e', userId: 'u', name: 'n', time: 1, properties: {} }).type).toBe('event');
    expect(IngestRecordSchema.parse({ type: 'attributes', id: 'a', userId: 'u', time: 1 }).type).toBe('attributes');
    expect(IngestRecordSchema.parse({ type: 'enter', id: 'x', userId: 'u', journeyId: 'j', time: 1 }).type).toBe('enter');
    expect(IngestRecordSchema.safeParse({ type: 'other', id: 'x', userId: 'u', time: 1 }).success).toBe(false);
  });
});
