import type { z } from 'zod';
import { isRecord } from '../data/is-record.js';
import { ID_PATTERN, ID_RULE } from './ids.js';
import { STEP_TYPES, WAITING_STEP_TYPES } from './step-types.js';

/**
 * Rules about the journey as a graph: every reference names a step, every step can be reached from
 * `start`, and no loop can spin without waiting. They read the raw document because they run even
 * when some steps are malformed; whatever cannot be read is left to the shape rules.
 */

type Path = Array<string | number>;

export interface StepReference {
  /** Where the reference sits inside the step, e.g. `['branches', 0, 'next']`. */
  path: Path;
  target: string;
}

const WAITING: ReadonlySet<unknown> = new Set(WAITING_STEP_TYPES);

const KNOWN_STEP_TYPES: ReadonlySet<unknown> = new Set(STEP_TYPES);

/** The step ids a step points to (null ends the journey and is not a reference). */
export function stepReferences(step: unknown): StepReference[] {
  return readStepReferences(step).references;
}

/**
 * The references of a step, and whether all of them could be read: a malformed `next` or an empty or
 * missing list of branches hides edges, and then reachability cannot be judged.
 */
function readStepReferences(step: unknown): { references: StepReference[]; complete: boolean } {
  const references: StepReference[] = [];
  let complete = isRecord(step) && KNOWN_STEP_TYPES.has(step.type);
  if (!isRecord(step)) return { references, complete };
  const add = (path: Path, target: unknown) => {
    if (typeof target === 'string' && target !== '') references.push({ path, target });
    else if (target !== null) complete = false;
  };
  const addFromList = (listKey: string) => {
    const list = step[listKey];
    if (!Array.isArray(list) || list.length === 0) {
      complete = false;
      return;
    }
    list.forEach((item, index) => {
      if (isRecord(item)) add([listKey, index, 'next'], item.next);
      else complete = false;
    });
  };
  switch (step.type) {
    case 'message':
    case 'delay':
    case 'user_update':
      add(['next'], step.next);
      break;
    case 'audience_split':
      addFromList('branches');
      add(['else'], step.else);
      break;
    case 'action_paths':
      addFromList('paths');
      add(['timeout'], step.timeout);
      break;
    case 'experiment':
      addFromList('variants');
      break;
  }
  return { references, complete };
}

export function checkJourneyGraph(journey: unknown, ctx: z.RefinementCtx): void {
  if (!isRecord(journey) || !isRecord(journey.steps)) return;
  const steps = journey.steps;
  const stepIds = Object.keys(steps);
  const isStep = (id: string) => Object.hasOwn(steps, id);
  const known = describeKnownSteps(stepIds);

  if (stepIds.length === 0) {
    ctx.addIssue({ code: 'custom', path: ['steps'], message: 'a journey needs at least one step', input: steps });
  }

  const start = journey.start;
  const startIsStep = typeof start === 'string' && isStep(start);
  if (typeof start === 'string' && start !== '' && !startIsStep) {
    ctx.addIssue({ code: 'custom', path: ['start'], message: `"${start}" is not a step of this journey${known}`, input: start });
  }

  const edges = new Map<string, string[]>();
  // Reachability is judged only on a sound graph: a hidden edge, or a misspelt reference, would
  // report every step behind it as unreachable and bury the one real mistake.
  let graphIsSound = true;
  for (const id of stepIds) {
    if (!ID_PATTERN.test(id)) {
      ctx.addIssue({ code: 'custom', path: ['steps', id], message: `step id "${id}" ${ID_RULE}`, input: id });
    }
    const { references, complete } = readStepReferences(steps[id]);
    if (!complete) graphIsSound = false;
    const targets: string[] = [];
    for (const reference of references) {
      if (isStep(reference.target)) {
        targets.push(reference.target);
      } else {
        graphIsSound = false;
        ctx.addIssue({
          code: 'custom',
          path: ['steps', id, ...reference.path],
          message: `"${reference.target}" is not a step of this journey${known}`,
          input: reference.target,
        });
      }
    }
    edges.set(id, targets);
  }

  if (startIsStep && graphIsSound) {
    const reached = reachableFrom(start, edges);
    for (const id of stepIds) {
      if (!reached.has(id)) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', id],
          message: `step "${id}" can never be reached from start "${start}"`,
          input: steps[id],
        });
      }
    }
  }

  const isWaiting = (id: string) => {
    const step = steps[id];
    return isRecord(step) && WAITING.has(step.type);
  };
  for (const loop of loopsWithoutWaiting(stepIds, edges, isWaiting)) {
    const first = loop[0] as string;
    ctx.addIssue({
      code: 'custom',
      path: ['steps', first],
      message: `steps ${[...loop, first].join(' -> ')} form a loop without a delay or action_paths step, so a user would cycle through it forever`,
      input: steps[first],
    });
  }
}

function describeKnownSteps(stepIds: string[]): string {
  if (stepIds.length === 0) return '';
  const shown = stepIds
    .slice(0, 10)
    .map((id) => `"${id}"`)
    .join(', ');
  return ` (steps: ${shown}${stepIds.length > 10 ? ', ...' : ''})`;
}

function reachableFrom(start: string, edges: ReadonlyMap<string, string[]>): Set<string> {
  const reached = new Set<string>([start]);
  const pending = [start];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    for (const target of edges.get(id) ?? []) {
      if (!reached.has(target)) {
        reached.add(target);
        pending.push(target);
      }
    }
  }
  return reached;
}

/**
 * One loop per strongly connected group of non-waiting steps (Tarjan), listed from the group's first
 * step in document order, so the report is stable.
 */
function loopsWithoutWaiting(stepIds: string[], edges: ReadonlyMap<string, string[]>, isWaiting: (id: string) => boolean): string[][] {
  const instantEdges = new Map<string, string[]>();
  for (const id of stepIds) {
    if (!isWaiting(id))
      instantEdges.set(
        id,
        (edges.get(id) ?? []).filter((target) => !isWaiting(target)),
      );
  }

  const index = new Map<string, number>();
  const lowLink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let counter = 0;

  const connect = (id: string): void => {
    index.set(id, counter);
    lowLink.set(id, counter);
    counter++;
    stack.push(id);
    onStack.add(id);
    for (const target of instantEdges.get(id) ?? []) {
      if (!index.has(target)) {
        connect(target);
        lowLink.set(id, Math.min(lowLink.get(id) as number, lowLink.get(target) as number));
      } else if (onStack.has(target)) {
        lowLink.set(id, Math.min(lowLink.get(id) as number, index.get(target) as number));
      }
    }
    if (lowLink.get(id) === index.get(id)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        group.push(member);
      } while (member !== id);
      groups.push(group);
    }
  };
  for (const id of instantEdges.keys()) if (!index.has(id)) connect(id);

  const order = new Map(stepIds.map((id, position) => [id, position]));
  return groups
    .filter((group) => group.length > 1 || (instantEdges.get(group[0] as string) ?? []).includes(group[0] as string))
    .map((group) => {
      const members = new Set(group);
      const first = [...group].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))[0] as string;
      return cycleThrough(first, members, instantEdges);
    })
    .sort((a, b) => (order.get(a[0] as string) ?? 0) - (order.get(b[0] as string) ?? 0));
}

/** The shortest cycle from `first` back to itself inside one strongly connected group. */
function cycleThrough(first: string, members: ReadonlySet<string>, edges: ReadonlyMap<string, string[]>): string[] {
  const parent = new Map<string, string>();
  const queue = [first];
  for (let head = 0; head < queue.length; head++) {
    const id = queue[head] as string;
    for (const target of edges.get(id) ?? []) {
      if (!members.has(target)) continue;
      if (target === first) {
        const cycle = [id];
        for (let step = parent.get(id); step !== undefined; step = parent.get(step)) cycle.push(step);
        return cycle.reverse();
      }
      if (!parent.has(target) && target !== first) {
        parent.set(target, id);
        queue.push(target);
      }
    }
  }
  return [first];
}
