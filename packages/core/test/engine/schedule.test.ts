import { describe, expect, it } from 'vitest';
import {
  cronProblem,
  isScheduleRun,
  pastScheduleIssues,
  runIncludesUser,
  runIncludesZoneless,
  upcomingScheduleRuns,
  validateJourney,
  type JourneyDefinition,
} from '../../src/index.js';
import { validExample } from './journey.js';

const at = (iso: string) => Date.parse(iso);

function scheduled(trigger: Record<string, unknown>, zone = 'UTC'): JourneyDefinition {
  return validExample((draft) => {
    draft.entry = { trigger: { type: 'schedule', ...trigger }, reentry: { mode: 'after', after: 'P1D' } };
    draft.settings = { timezone: zone };
  });
}

describe('schedule triggers', () => {
  it('refuses a pattern croner does not read, seconds, and both or neither of at and cron', () => {
    expect(cronProblem('0 9 * * 1')).toBeNull();
    expect(cronProblem('61 9 * * 1')).toMatch(/minute/);
    expect(cronProblem('0 0 9 * * 1')).toMatch(/5 fields/);
    const issues = (trigger: Record<string, unknown>) => {
      const result = validateJourney({ ...validExample(), entry: { trigger: { type: 'schedule', ...trigger } } });
      return result.ok ? [] : result.issues.map((issue) => `${issue.path}: ${issue.message}`);
    };
    expect(issues({ cron: '0 9 * *' })).toEqual([
      expect.stringMatching(/^entry\.trigger\.cron: is not a valid cron pattern: must have 5 fields/),
    ]);
    expect(issues({ at: '2030-01-01T00:00:00Z', cron: '0 9 * * 1' })).toEqual([expect.stringMatching(/^entry\.trigger: .*not both/)]);
    expect(issues({})).toEqual([expect.stringMatching(/^entry\.trigger: a schedule needs/)]);
    expect(issues({ cron: '0 9 * * 1', timezone: 'Mars/Base' })).toEqual([expect.stringMatching(/^entry\.trigger\.timezone: /)]);
    expect(issues({ at: '2030-01-01T00:00:00Z', timezone: 'UTC' })).toEqual([expect.stringMatching(/^entry\.trigger\.timezone: /)]);
  });

  it('refuses a one-time schedule in the past, at its path', () => {
    const now = at('2030-01-01T00:00:00Z');
    expect(pastScheduleIssues({ entry: { trigger: { type: 'schedule', at: '2029-12-31T23:59:59Z' } } }, now)).toEqual([
      { path: 'entry.trigger.at', message: expect.stringMatching(/in the past/) },
    ]);
    expect(pastScheduleIssues({ entry: { trigger: { type: 'schedule', at: '2030-01-01T00:00:00Z' } } }, now)).toEqual([]);
    expect(pastScheduleIssues({ entry: { trigger: { type: 'schedule', cron: '0 9 * * 1' } } }, now)).toEqual([]);
  });

  it("runs a zoned cron at each occurrence in its zone (the journey's by default), across daylight saving", () => {
    const berlin = scheduled({ cron: '0 9 * * 1', timezone: 'Europe/Berlin' });
    // Monday 2026-03-23 09:00 CET is 08:00Z; a week later (summer time) 09:00 CEST is 07:00Z.
    expect(upcomingScheduleRuns(berlin, at('2026-03-20T00:00:00Z'))).toEqual([{ at: at('2026-03-23T08:00:00Z'), zones: null }]);
    expect(upcomingScheduleRuns(berlin, at('2026-03-23T08:00:00Z'))).toEqual([{ at: at('2026-03-30T07:00:00Z'), zones: null }]);
    const journeyZone = scheduled({ cron: '30 18 * * *' }, 'America/New_York');
    expect(upcomingScheduleRuns(journeyZone, at('2026-06-01T00:00:00Z'))).toEqual([{ at: at('2026-06-01T22:30:00Z'), zones: null }]);
    expect(isScheduleRun(berlin, { at: at('2026-03-23T08:00:00Z'), zones: null })).toBe(true);
    expect(isScheduleRun(berlin, { at: at('2026-03-23T09:00:00Z'), zones: null })).toBe(false);
  });

  it('runs a "user" cron once per instant, each run holding the zones whose local time it is', () => {
    const journey = scheduled({ cron: '0 9 * * *', timezone: 'user' }, 'Europe/Paris');
    const runs = upcomingScheduleRuns(journey, at('2026-06-01T00:00:00Z'));
    const instants = runs.map((run) => run.at);
    expect(instants).toEqual([...instants].sort((a, b) => a - b));
    expect(new Set(instants).size).toBe(instants.length);
    const tokyo = runs.find((run) => run.zones?.includes('Asia/Tokyo'));
    expect(tokyo?.at).toBe(at('2026-06-02T00:00:00Z'));
    expect(tokyo?.zones).toContain('Asia/Seoul');
    const paris = runs.find((run) => run.zones?.includes('Europe/Paris'))!;
    expect(paris.at).toBe(at('2026-06-01T07:00:00Z'));
    expect(isScheduleRun(journey, paris)).toBe(true);
    expect(isScheduleRun(journey, { ...paris, zones: ['Asia/Tokyo'] })).toBe(false);
    // Users without a valid zone follow the journey's (Paris).
    expect(runIncludesUser(journey, paris, { timezone: 'Europe/Berlin' })).toBe(true);
    expect(runIncludesUser(journey, paris, { timezone: 'Nowhere/Land' })).toBe(true);
    expect(runIncludesUser(journey, paris, { timezone: 'Asia/Tokyo' })).toBe(false);
    expect(runIncludesZoneless(journey, paris)).toBe(true);
    expect(runIncludesZoneless(journey, tokyo!)).toBe(false);
  });
});
