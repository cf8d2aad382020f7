import { simulateEntry, type EntrySimulation, type EntrySimulationInput } from './simulate-entry.js';

/** How many of the simulated users took one path, and where it ended. */
export interface PathShare {
  path: string[];
  end: EntrySimulation['end']['status'];
  users: number;
  /** users / all simulated users, 0-1. */
  share: number;
}

export interface AudienceSimulation {
  users: number;
  /** The paths taken, most common first. */
  paths: PathShare[];
  ends: Record<EntrySimulation['end']['status'], number>;
  converted: number;
  /** Per message step: how many users it would send to, skip or fail. */
  messages: Record<string, { sent: number; skipped: number; failed: number }>;
}

/** Many users' entries, simulated one by one (simulateEntry), summed up by path. */
export function simulateAudience(inputs: readonly EntrySimulationInput[]): AudienceSimulation {
  const byPath = new Map<string, PathShare>();
  const ends: AudienceSimulation['ends'] = { completed: 0, exited: 0, active: 0 };
  const messages: AudienceSimulation['messages'] = {};
  let converted = 0;
  for (const input of inputs) {
    const simulated = simulateEntry(input);
    const key = JSON.stringify([simulated.path, simulated.end.status]);
    const share = byPath.get(key) ?? { path: simulated.path, end: simulated.end.status, users: 0, share: 0 };
    share.users++;
    byPath.set(key, share);
    ends[simulated.end.status]++;
    if (simulated.convertedAt !== null) converted++;
    for (const entry of simulated.timeline) {
      if (entry.kind !== 'message') continue;
      const counts = (messages[entry.stepId] ??= { sent: 0, skipped: 0, failed: 0 });
      counts[entry.status]++;
    }
  }
  const paths = [...byPath.values()]
    .map((share) => ({ ...share, share: inputs.length === 0 ? 0 : share.users / inputs.length }))
    .sort((a, b) => b.users - a.users);
  return { users: inputs.length, paths, ends, converted, messages };
}
