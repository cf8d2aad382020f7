import { describe, expect, it } from 'vitest';
import {
  addIsoDuration,
  isPositiveIsoDuration,
  isWithinMaxDuration,
  parseIsoDuration,
  subtractIsoDuration,
} from '../../src/time/duration.js';
import { isValidZone, resolveZone } from '../../src/time/zone.js';

const at = (iso: string) => Date.parse(iso);

describe('ISO 8601 durations', () => {
  it.each(['PT5S', 'PT1H30M', 'P1D', 'P2W', 'P1Y2M3DT4H5M6.5S', 'PT0.5S', 'P1M'])('accepts %s', (iso) => {
    expect(parseIsoDuration(iso)).not.toBeNull();
    expect(isPositiveIsoDuration(iso)).toBe(true);
  });

  it.each(['', 'P', 'PT', 'P1DT', '5S', 'pt5s', '-PT5S', 'PT-5S', 'PT5', '1 day', 'P1H'])('rejects %j', (iso) => {
    expect(parseIsoDuration(iso)).toBeNull();
    expect(isPositiveIsoDuration(iso)).toBe(false);
  });

  it('reads every duration its pattern matches, commas as decimal points in any unit', () => {
    for (const iso of [`P${'9'.repeat(20)}Y`, 'P1,5DT1,5S', 'PT0.123456789S']) expect(parseIsoDuration(iso)?.isValid, iso).toBe(true);
    expect(parseIsoDuration('P1,5D')?.as('hours')).toBe(36);
    expect(parseIsoDuration(`P${'9'.repeat(21)}Y`)).toBeNull();
    expect(parseIsoDuration('PT0.1234567891S')).toBeNull();
  });

  it('allows at most 10 years, a year counting 365 days and a month 30', () => {
    for (const iso of ['P10Y', 'P3650D', 'P120M', 'P521W', 'PT87600H', 'P9Y12M']) expect(isWithinMaxDuration(iso), iso).toBe(true);
    for (const iso of ['P10YT1S', 'P3651D', 'P522W', 'P999999999Y', `PT${'9'.repeat(20)}S`, 'nonsense'])
      expect(isWithinMaxDuration(iso), iso).toBe(false);
  });

  it('parses zero durations but does not call them positive', () => {
    expect(parseIsoDuration('PT0S')?.toMillis()).toBe(0);
    expect(isPositiveIsoDuration('PT0S')).toBe(false);
    expect(isPositiveIsoDuration('P0D')).toBe(false);
  });
});

describe('addIsoDuration', () => {
  it('adds clock units as elapsed time', () => {
    expect(addIsoDuration(1_000, 'PT5S')).toBe(6_000);
    expect(addIsoDuration(at('2024-03-10T06:00:00Z'), 'PT2H', 'America/New_York')).toBe(at('2024-03-10T08:00:00Z'));
  });

  it('adds days on the wall clock of the zone, across spring-forward', () => {
    // 09:00 EST on March 9 plus one day is 09:00 EDT on March 10: 23 hours later.
    expect(addIsoDuration(at('2024-03-09T14:00:00Z'), 'P1D', 'America/New_York')).toBe(at('2024-03-10T13:00:00Z'));
    expect(addIsoDuration(at('2024-03-09T14:00:00Z'), 'P1D')).toBe(at('2024-03-10T14:00:00Z'));
  });

  it('adds days on the wall clock of the zone, across fall-back', () => {
    // 09:00 CEST on October 26 plus one day is 09:00 CET on October 27: 25 hours later.
    expect(addIsoDuration(at('2024-10-26T07:00:00Z'), 'P1D', 'Europe/Berlin')).toBe(at('2024-10-27T08:00:00Z'));
  });

  it('clamps months to the end of shorter months', () => {
    expect(addIsoDuration(at('2024-01-31T10:00:00Z'), 'P1M')).toBe(at('2024-02-29T10:00:00Z'));
  });

  it('subtracts', () => {
    expect(subtractIsoDuration(at('2024-05-02T00:00:00Z'), 'P1D')).toBe(at('2024-05-01T00:00:00Z'));
  });

  it('throws on a malformed duration, which validation keeps out', () => {
    expect(() => addIsoDuration(0, '5 minutes')).toThrow(RangeError);
  });
});

describe('zones', () => {
  it('knows IANA zones', () => {
    expect(isValidZone('Europe/Berlin')).toBe(true);
    expect(isValidZone('UTC')).toBe(true);
    expect(isValidZone('Mars/Olympus')).toBe(false);
    expect(isValidZone('')).toBe(false);
    expect(isValidZone(3)).toBe(false);
  });

  it('judges a zone the same way again, however many other names it judged in between', () => {
    for (let index = 0; index < 2_500; index++) expect(isValidZone(`Nowhere/Place${index}`)).toBe(false);
    expect(isValidZone('Europe/Berlin')).toBe(true);
    expect(isValidZone('Mars/Olympus')).toBe(false);
    expect(isValidZone('Europe/Berlin')).toBe(true);
  });

  it.each<[unknown, string, string]>([
    ['Asia/Tokyo', 'Europe/Berlin', 'Asia/Tokyo'],
    ['Mars/Olympus', 'Europe/Berlin', 'Europe/Berlin'],
    ['', 'Europe/Berlin', 'Europe/Berlin'],
    [undefined, 'America/New_York', 'America/New_York'],
    [null, 'America/New_York', 'America/New_York'],
    [-5, 'America/New_York', 'America/New_York'],
    ['+02:00', 'UTC', 'UTC'],
    ['Nowhere', 'Also/Nowhere', 'UTC'],
  ])('resolveZone(%j, %j) is %j', (userZone, journeyZone, expected) => {
    expect(resolveZone(userZone, journeyZone)).toBe(expected);
  });
});

describe('durations past the range of dates', () => {
  it('throw instead of giving NaN', () => {
    expect(() => addIsoDuration(Date.parse('2026-11-23T12:00:00Z'), 'P999999999Y')).toThrow(RangeError);
    expect(() => subtractIsoDuration(Date.parse('2026-11-23T12:00:00Z'), 'P999999999Y')).toThrow(RangeError);
  });
});
