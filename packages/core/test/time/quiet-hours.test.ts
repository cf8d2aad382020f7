import { describe, expect, it } from 'vitest';
import { allowedSendTime } from '../../src/engine/send-time.js';
import { applyQuietHours, isInQuietHours } from '../../src/time/quiet-hours.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();
const overnight = { start: '22:00', end: '08:00' };

describe('applyQuietHours across midnight (22:00-08:00)', () => {
  it.each([
    ['late evening moves to next morning', '2024-01-15T23:00:00.000Z', '2024-01-16T08:00:00.000Z'],
    ['start is inside', '2024-01-15T22:00:00.000Z', '2024-01-16T08:00:00.000Z'],
    ['after midnight moves to the same morning', '2024-01-16T03:00:00.000Z', '2024-01-16T08:00:00.000Z'],
    ['just before the end', '2024-01-16T07:59:59.999Z', '2024-01-16T08:00:00.000Z'],
    ['end is outside', '2024-01-16T08:00:00.000Z', '2024-01-16T08:00:00.000Z'],
    ['just before the start', '2024-01-15T21:59:59.999Z', '2024-01-15T21:59:59.999Z'],
    ['daytime is unchanged', '2024-01-15T12:00:00.000Z', '2024-01-15T12:00:00.000Z'],
  ])('%s', (_name, dueAt, expected) => {
    expect(iso(applyQuietHours(at(dueAt), overnight, 'UTC'))).toBe(expected);
  });
});

describe('applyQuietHours within a day (12:00-14:00)', () => {
  const lunch = { start: '12:00', end: '14:00' };
  it('moves sends inside the window to its end and leaves others alone', () => {
    expect(iso(applyQuietHours(at('2024-01-15T13:00:00Z'), lunch, 'UTC'))).toBe('2024-01-15T14:00:00.000Z');
    expect(iso(applyQuietHours(at('2024-01-15T14:00:00Z'), lunch, 'UTC'))).toBe('2024-01-15T14:00:00.000Z');
    expect(iso(applyQuietHours(at('2024-01-15T11:00:00Z'), lunch, 'UTC'))).toBe('2024-01-15T11:00:00.000Z');
    expect(iso(applyQuietHours(at('2024-01-15T23:00:00Z'), lunch, 'UTC'))).toBe('2024-01-15T23:00:00.000Z');
  });
});

describe('quiet hours in the user zone', () => {
  it('reads the window on the local clock', () => {
    // 04:00Z is 23:00 EST the previous evening: quiet until 08:00 EST = 13:00Z.
    expect(iso(applyQuietHours(at('2024-01-15T04:00:00Z'), overnight, 'America/New_York'))).toBe('2024-01-15T13:00:00.000Z');
    // The same instant is 13:00 in Tokyo: not quiet.
    expect(applyQuietHours(at('2024-01-15T04:00:00Z'), overnight, 'Asia/Tokyo')).toBe(at('2024-01-15T04:00:00Z'));
  });

  it('ends at the right instant when the night has a spring-forward', () => {
    // Berlin, night of March 30-31 2024: 08:00 is already CEST (06:00Z), not CET.
    expect(iso(applyQuietHours(at('2024-03-30T23:30:00Z'), overnight, 'Europe/Berlin'))).toBe('2024-03-31T06:00:00.000Z');
  });

  it('ends in the gap itself at the first valid instant', () => {
    // New York, March 10 2024: a window ending 02:30 ends at 03:00 EDT, the end of the gap.
    expect(iso(applyQuietHours(at('2024-03-10T06:30:00Z'), { start: '01:00', end: '02:30' }, 'America/New_York'))).toBe(
      '2024-03-10T07:00:00.000Z',
    );
  });

  it('ends at the second pass of a repeated time when the send is in the second pass', () => {
    // Berlin, October 27 2024: 02:15 CET (01:15Z) is after the first 02:30 (00:30Z); the window ends at the second (01:30Z).
    expect(iso(applyQuietHours(at('2024-10-27T01:15:00Z'), { start: '01:00', end: '02:30' }, 'Europe/Berlin'))).toBe(
      '2024-10-27T01:30:00.000Z',
    );
  });

  it('treats a window that starts where it ends as empty', () => {
    expect(isInQuietHours(at('2024-01-15T22:00:00Z'), { start: '22:00', end: '22:00' }, 'UTC')).toBe(false);
  });

  it('says whether an instant is quiet', () => {
    expect(isInQuietHours(at('2024-01-15T23:00:00Z'), overnight, 'UTC')).toBe(true);
    expect(isInQuietHours(at('2024-01-15T12:00:00Z'), overnight, 'UTC')).toBe(false);
  });
});

describe('allowedSendTime', () => {
  const settings = { timezone: 'Europe/Berlin', quietHours: overnight };

  it('uses the user zone when valid', () => {
    // 22:30Z is 07:30 in Tokyo (quiet until 08:00 JST = 23:00Z) but 23:30 in Berlin.
    expect(iso(allowedSendTime(settings, 'Asia/Tokyo', at('2024-01-15T22:30:00Z')))).toBe('2024-01-15T23:00:00.000Z');
  });

  it('falls back to the journey zone for an invalid user zone', () => {
    // 22:30Z is 23:30 in Berlin: quiet until 08:00 CET = 07:00Z.
    expect(iso(allowedSendTime(settings, 'Not/AZone', at('2024-01-15T22:30:00Z')))).toBe('2024-01-16T07:00:00.000Z');
    expect(iso(allowedSendTime(settings, undefined, at('2024-01-15T22:30:00Z')))).toBe('2024-01-16T07:00:00.000Z');
  });

  it('is the due time itself without quiet hours', () => {
    expect(allowedSendTime({ timezone: 'UTC' }, 'Asia/Tokyo', 123)).toBe(123);
  });
});
