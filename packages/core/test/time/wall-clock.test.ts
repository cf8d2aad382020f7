import { describe, expect, it } from 'vitest';
import { localTimeToInstant, nextWallClockTime } from '../../src/time/wall-clock.js';

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe('nextWallClockTime', () => {
  it('is later the same day when the time is still ahead', () => {
    expect(iso(nextWallClockTime(at('2024-01-15T08:00:00Z'), '09:00', 'UTC'))).toBe('2024-01-15T09:00:00.000Z');
  });

  it('is strictly after now: at exactly 09:00 the next 09:00 is tomorrow', () => {
    expect(iso(nextWallClockTime(at('2024-01-15T09:00:00Z'), '09:00', 'UTC'))).toBe('2024-01-16T09:00:00.000Z');
    expect(iso(nextWallClockTime(at('2024-01-15T08:59:59.999Z'), '09:00', 'UTC'))).toBe('2024-01-15T09:00:00.000Z');
  });

  it('is tomorrow when the time has passed today', () => {
    expect(iso(nextWallClockTime(at('2024-01-15T10:00:00Z'), '09:00', 'UTC'))).toBe('2024-01-16T09:00:00.000Z');
  });

  it('uses the local date of the zone, not the UTC date', () => {
    // 03:00Z on Jan 16 is still 22:00 on Jan 15 in New York.
    expect(iso(nextWallClockTime(at('2024-01-16T03:00:00Z'), '23:30', 'America/New_York'))).toBe('2024-01-16T04:30:00.000Z');
    expect(iso(nextWallClockTime(at('2024-01-15T12:00:00Z'), '09:00', 'Asia/Tokyo'))).toBe('2024-01-16T00:00:00.000Z');
  });

  describe('America/New_York', () => {
    it('spring-forward: a time in the gap moves to the first instant after it (03:00 EDT)', () => {
      expect(iso(nextWallClockTime(at('2024-03-10T05:00:00Z'), '02:30', 'America/New_York'))).toBe('2024-03-10T07:00:00.000Z');
      expect(iso(nextWallClockTime(at('2024-03-10T05:00:00Z'), '02:00', 'America/New_York'))).toBe('2024-03-10T07:00:00.000Z');
    });

    it('spring-forward: 09:00 is on the new offset, 23 hours after the previous 09:00', () => {
      const previous = at('2024-03-09T14:00:00Z');
      const next = nextWallClockTime(previous, '09:00', 'America/New_York');
      expect(iso(next)).toBe('2024-03-10T13:00:00.000Z');
      expect(next - previous).toBe(23 * 3_600_000);
    });

    it('fall-back: a repeated time takes its first (EDT) occurrence', () => {
      expect(iso(nextWallClockTime(at('2024-11-03T04:00:00Z'), '01:30', 'America/New_York'))).toBe('2024-11-03T05:30:00.000Z');
    });

    it('fall-back: in the second pass, after the first occurrence, it is the next day', () => {
      expect(iso(nextWallClockTime(at('2024-11-03T06:00:00Z'), '01:30', 'America/New_York'))).toBe('2024-11-04T06:30:00.000Z');
    });

    it('fall-back: 09:00 is 25 hours after the previous 09:00', () => {
      const previous = at('2024-11-02T13:00:00Z');
      expect(nextWallClockTime(previous, '09:00', 'America/New_York') - previous).toBe(25 * 3_600_000);
    });
  });

  describe('Europe/Berlin', () => {
    it('spring-forward: 02:15 does not exist on March 31 and becomes 03:00 CEST', () => {
      expect(iso(nextWallClockTime(at('2024-03-30T23:00:00Z'), '02:15', 'Europe/Berlin'))).toBe('2024-03-31T01:00:00.000Z');
    });

    it('spring-forward: the day after, 02:15 exists again', () => {
      expect(iso(nextWallClockTime(at('2024-03-31T02:00:00Z'), '02:15', 'Europe/Berlin'))).toBe('2024-04-01T00:15:00.000Z');
    });

    it('fall-back: 02:30 happens twice on October 27 and the earlier (CEST) is taken', () => {
      expect(iso(nextWallClockTime(at('2024-10-26T22:00:00Z'), '02:30', 'Europe/Berlin'))).toBe('2024-10-27T00:30:00.000Z');
    });

    it('fall-back: 09:00 is on the winter offset', () => {
      expect(iso(nextWallClockTime(at('2024-10-26T22:00:00Z'), '09:00', 'Europe/Berlin'))).toBe('2024-10-27T08:00:00.000Z');
    });
  });

  it('rejects malformed times', () => {
    expect(() => nextWallClockTime(0, '9am', 'UTC')).toThrow(RangeError);
  });
});

describe('localTimeToInstant', () => {
  it('can pick the later of two ambiguous instants', () => {
    const local = { year: 2024, month: 10, day: 27, hour: 2, minute: 30 };
    expect(iso(localTimeToInstant(local, 'Europe/Berlin'))).toBe('2024-10-27T00:30:00.000Z');
    expect(iso(localTimeToInstant(local, 'Europe/Berlin', 'later'))).toBe('2024-10-27T01:30:00.000Z');
  });

  it('maps unambiguous times the same either way', () => {
    const local = { year: 2024, month: 7, day: 1, hour: 12, minute: 0 };
    expect(localTimeToInstant(local, 'Europe/Berlin', 'later')).toBe(localTimeToInstant(local, 'Europe/Berlin'));
    expect(iso(localTimeToInstant(local, 'Europe/Berlin'))).toBe('2024-07-01T10:00:00.000Z');
  });

  it('handles a zone with a 30-minute shift (Australia/Lord_Howe gap)', () => {
    // Lord Howe moves from +10:30 to +11:00 at 02:00 local on 2024-10-06; 02:15 does not exist.
    expect(iso(localTimeToInstant({ year: 2024, month: 10, day: 6, hour: 2, minute: 15 }, 'Australia/Lord_Howe'))).toBe(
      '2024-10-05T15:30:00.000Z',
    );
  });

  it('throws for an unknown zone', () => {
    expect(() => localTimeToInstant({ year: 2024, month: 1, day: 1, hour: 0, minute: 0 }, 'Mars/Olympus')).toThrow(RangeError);
  });
});
