import { exampleJourney, validateJourney, type JourneyDefinition } from '@journey/core';
import { testServers, uniqueName } from '@journey/embedded/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectMongo,
  CorruptJourneyDocumentError,
  createJourneysRepository,
  JourneyCursorSchema,
  type Journey,
  type JourneysRepository,
  type JourneyWriteResult,
  type MongoStore,
} from '../src/index.js';

function definition(change: (journey: Record<string, unknown>) => void = () => undefined): JourneyDefinition {
  const draft = structuredClone(exampleJourney) as Record<string, unknown>;
  change(draft);
  const validation = validateJourney(draft);
  if (!validation.ok) throw new Error(`invalid fixture: ${JSON.stringify(validation.issues)}`);
  return validation.journey;
}

function ok(result: JourneyWriteResult): Journey {
  if (!result.ok) throw new Error(`expected success, got ${result.reason}: ${result.message}`);
  return result.journey;
}

describe('journeys repository', () => {
  let store: MongoStore;
  let repo: JourneysRepository;
  let clock = Date.UTC(2025, 5, 1, 9, 0, 0);

  beforeAll(async () => {
    store = await connectMongo(testServers().mongoUri, uniqueName('journeys'));
    repo = createJourneysRepository(store.db, { now: () => clock });
    await repo.ensureIndexes();
  });
  afterAll(async () => {
    await store.db.dropDatabase();
    await store.close();
  });

  it('creates its indexes idempotently', async () => {
    await repo.ensureIndexes();
    const journeyIndexes = (await store.db.collection('journeys').indexes()).map((index) => index.name);
    expect(journeyIndexes).toEqual(expect.arrayContaining(['createdAt_id', 'status_createdAt_id']));
    const versionIndexes = await store.db.collection('journey_versions').indexes();
    expect(versionIndexes.find((index) => index.name === 'journeyId_version_unique')?.unique).toBe(true);
  });

  it('stores a new journey as one document holding its draft, on the injected clock', async () => {
    clock += 1_000;
    const journey = ok(await repo.create(definition()));
    expect(journey).toMatchObject({ status: 'draft', activeVersion: null, latestVersion: 0, revision: 1, draft: { version: 1 } });
    expect(journey.createdAt).toEqual(new Date(clock));
    const raw = await store.db.collection<{ _id: string }>('journeys').findOne({ _id: journey.id });
    expect(raw).toMatchObject({
      _id: journey.id,
      name: 'Onboarding',
      status: 'draft',
      activeVersion: null,
      latestVersion: 0,
      revision: 1,
      draft: { version: 1, definition: definition(), updatedAt: new Date(clock) },
    });
    expect(await repo.get(journey.id)).toEqual(journey);
    expect(await repo.get('jrn_00000000000000000000')).toBeNull();
  });

  it('publishes, edits, and publishes again, keeping every version immutable', async () => {
    const { id } = ok(await repo.create(definition()));
    clock += 1_000;
    const v1 = ok(await repo.publish(id));
    expect(v1).toMatchObject({ status: 'active', activeVersion: 1, latestVersion: 1, draft: null, revision: 2 });
    const published = await repo.findPublishedVersion(id, 1);
    expect(published).toEqual({ journeyId: id, version: 1, definition: definition(), publishedAt: new Date(clock) });

    const edited = ok(
      await repo.saveDraft(
        id,
        definition((j) => (j.name = 'Second')),
        { expectedRevision: 2 },
      ),
    );
    expect(edited).toMatchObject({ name: 'Second', status: 'active', activeVersion: 1, draft: { version: 2 }, revision: 3 });
    // A draft is not a published version.
    expect(await repo.findPublishedVersion(id, 2)).toBeNull();
    expect((await repo.versionEntry(id, 2))?.entry).toMatchObject({ version: 2, status: 'draft', publishedAt: null });

    ok(await repo.publish(id));
    const history = await repo.history(id);
    expect(history?.versions.map((v) => [v.version, v.status, v.definition.name])).toEqual([
      [1, 'superseded', 'Onboarding'],
      [2, 'active', 'Second'],
    ]);
    expect((await repo.findPublishedVersion(id, 1))?.definition).toEqual(definition());
  });

  it('reports expected misses as values: unknown journey, stale revision, invalid move', async () => {
    expect(await repo.publish('jrn_00000000000000000000')).toMatchObject({ ok: false, reason: 'not_found' });
    const { id } = ok(await repo.create(definition()));
    expect(await repo.saveDraft(id, definition(), { expectedRevision: 7 })).toEqual({
      ok: false,
      reason: 'conflict',
      message: `Journey ${id} is at revision 1, not 7: read it again and retry`,
    });
    expect(await repo.resume(id)).toEqual({
      ok: false,
      reason: 'conflict',
      message: `Cannot resume journey ${id}: it is draft, and only a paused journey can be resumed`,
    });
    expect((await repo.get(id))?.revision).toBe(1);
  });

  it('refuses field names the server cannot store, as validation issues', async () => {
    const withDottedKey = definition();
    const welcome = withDottedKey.steps.welcome;
    if (welcome?.type !== 'message') throw new Error('fixture changed');
    welcome.payload = { 'user.name': 'x' };
    expect(await repo.create(withDottedKey)).toMatchObject({
      ok: false,
      reason: 'invalid',
      issues: [{ path: 'steps.welcome.payload.user.name', message: expect.stringContaining('cannot be stored') }],
    });
  });

  describe('publishing over a leftover version document', () => {
    const leftover = (id: string, journeyRevision: number, name: string) =>
      store.db.collection('journey_versions').insertOne({
        _id: `${id}:1` as never,
        journeyId: id,
        version: 1,
        definition: definition((j) => (j.name = name)),
        journeyRevision,
        publishedAt: new Date(0),
      });

    it('overwrites a leftover of an earlier, failed publish and ignores it until then', async () => {
      const { id } = ok(await repo.create(definition()));
      ok(
        await repo.saveDraft(
          id,
          definition((j) => (j.name = 'Current')),
        ),
      );
      await leftover(id, 1, 'Stale');
      // Not referenced by the journey: not a version yet.
      expect(await repo.findPublishedVersion(id, 1)).toBeNull();
      expect((await repo.history(id))?.versions.map((v) => v.status)).toEqual(['draft']);

      ok(await repo.publish(id));
      expect((await repo.findPublishedVersion(id, 1))?.definition.name).toBe('Current');
    });

    it('stops a publisher whose draft is older than the leftover of a newer attempt', async () => {
      const { id } = ok(await repo.create(definition()));
      await leftover(id, 5, 'From a newer revision');
      const result = await repo.publish(id);
      expect(result).toMatchObject({ ok: false, reason: 'conflict', message: expect.stringContaining('changed by another request') });
      expect(await repo.get(id)).toMatchObject({ status: 'draft', activeVersion: null, revision: 1 });
    });
  });

  it('lets exactly one of many racing writers from the same revision win', async () => {
    const { id } = ok(await repo.create(definition()));
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        repo.saveDraft(
          id,
          definition((j) => (j.name = `writer ${i}`)),
          { expectedRevision: 1 },
        ),
      ),
    );
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => !r.ok && r.reason === 'conflict')).toHaveLength(7);
    const journey = await repo.get(id);
    expect(journey?.revision).toBe(2);
    expect(journey?.name).toBe(winners[0]!.ok ? winners[0]!.journey.name : undefined);
  });

  it('publishes once when two publishes race', async () => {
    const { id } = ok(await repo.create(definition()));
    const results = await Promise.all([repo.publish(id), repo.publish(id)]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(results.find((r) => !r.ok)).toMatchObject({ reason: 'conflict' });
    expect(await repo.get(id)).toMatchObject({ status: 'active', activeVersion: 1, latestVersion: 1, revision: 2 });
    expect((await repo.history(id))?.versions).toHaveLength(1);
  });

  it('refuses to read a stored document that does not match its schema', async () => {
    const { id } = ok(await repo.create(definition()));
    await store.db.collection<{ _id: string }>('journeys').updateOne({ _id: id }, { $set: { status: 'running' } });
    const read = await repo.get(id).catch((error: unknown) => error);
    expect(read).toBeInstanceOf(CorruptJourneyDocumentError);
    expect((read as CorruptJourneyDocumentError).message).toContain('status');
  });

  describe('list', () => {
    let listRepo: JourneysRepository;
    let listStore: MongoStore;
    const created: Journey[] = [];

    beforeAll(async () => {
      listStore = await connectMongo(testServers().mongoUri, uniqueName('journeys_list'));
      let listClock = Date.UTC(2025, 0, 1);
      listRepo = createJourneysRepository(listStore.db, { now: () => listClock });
      await listRepo.ensureIndexes();
      for (let i = 0; i < 5; i += 1) {
        // Two pairs share a millisecond: the id breaks the tie.
        if (i % 2 === 0) listClock += 1_000;
        created.push(ok(await listRepo.create(definition((j) => (j.name = `J${i}`)))));
      }
      ok(await listRepo.publish(created[1]!.id));
    });
    afterAll(async () => {
      await listStore.db.dropDatabase();
      await listStore.close();
    });

    it('returns newest first, ties by id descending, in pages joined by the cursor', async () => {
      const expected = [...created]
        .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
        .map((j) => j.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 5; page += 1) {
        const result = await listRepo.list({ limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...result.journeys.map((j) => j.id));
        if (!result.nextCursor) break;
        expect(JourneyCursorSchema.safeParse(result.nextCursor).success).toBe(true);
        cursor = result.nextCursor;
      }
      expect(seen).toEqual(expected);
    });

    it('filters by status and shows summaries without definitions', async () => {
      const { journeys, nextCursor } = await listRepo.list({ status: 'active', limit: 10 });
      expect(journeys).toEqual([expect.objectContaining({ id: created[1]!.id, status: 'active', draftVersion: null, activeVersion: 1 })]);
      expect(journeys[0]).not.toHaveProperty('draft');
      expect(nextCursor).toBeNull();
      const drafts = await listRepo.list({ status: 'draft', limit: 10 });
      expect(drafts.journeys.map((j) => j.draftVersion)).toEqual([1, 1, 1, 1]);
    });

    it('rejects a cursor it did not hand out', async () => {
      expect(JourneyCursorSchema.safeParse('bm9wZQ').success).toBe(false);
      expect(JourneyCursorSchema.safeParse('not a cursor!').success).toBe(false);
      await expect(listRepo.list({ limit: 2, cursor: 'bm9wZQ' })).rejects.toThrow(TypeError);
    });
  });
});
