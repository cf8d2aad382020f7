import { journeyMap, validateJourney, type JourneyDefinition } from '@journey/core';
import type { Journey, JourneysRepository } from '@journey/mongo';
import type { Stats } from '@journey/redis';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { layOut, type LaidOutMap } from '../map/layout.js';
import { mapLines, renderMapPage, type MapCounts } from '../map/page.js';
import { HttpError } from '../plugins/error-handler.js';
import { errorResponses, KEYED_ROUTE_ERRORS } from '../schemas/error.js';
import { JourneyParamsSchema } from '../schemas/journeys.js';

const MapQuerySchema = z.strictObject({
  version: z
    .union([z.literal('draft'), z.coerce.number().int().positive()])
    .optional()
    .describe('The version to draw (default the active one, else the latest published, else the draft)'),
});

const CountLinesSchema = z
  .object({
    version: z.number().int().positive(),
    lines: z.record(z.string(), z.string()).describe('The text of each count on the map, by the `data-line` of its element'),
  })
  .meta({ id: 'MapCountLines' });

/** Published versions are laid out once and kept (they never change); drafts are laid out on each request. */
const LAYOUTS_KEPT = 200;
/** How often the page reads its counts again. */
const REFRESH_MS = 3_000;

/**
 * The journey map: a read-only page per journey, behind the ops scope like the queue dashboard (a browser sends the
 * key as the password of HTTP Basic). It draws the version's graph laid out by ELK, with the counters of every step
 * and branch, and reads the counts again every few seconds.
 */
export const journeyMapRoutes: FastifyPluginAsyncZod<{ journeys: JourneysRepository; stats: Pick<Stats, 'read'> }> = async (
  app,
  { journeys, stats },
) => {
  const layouts = new Map<string, Promise<LaidOutMap>>();

  function layoutOf(journeyId: string, version: number, definition: JourneyDefinition): Promise<LaidOutMap> {
    const key = `${journeyId}:${version}`;
    let laidOut = layouts.get(key);
    if (!laidOut) {
      laidOut = layOut(journeyMap(definition));
      laidOut.catch(() => layouts.delete(key));
      if (layouts.size >= LAYOUTS_KEPT) layouts.delete(layouts.keys().next().value as string);
      layouts.set(key, laidOut);
    }
    return laidOut;
  }

  async function counts(journeyId: string, version: number): Promise<MapCounts> {
    const { steps } = await stats.read(journeyId, version);
    const result: MapCounts = { steps: {}, branches: {} };
    for (const [stepId, step] of Object.entries(steps)) {
      result.steps[stepId] = step.counters;
      for (const [branchId, counters] of Object.entries(step.branches)) result.branches[`${stepId}:${branchId}`] = counters;
    }
    return result;
  }

  async function published(journey: Journey, version: number): Promise<{ definition: JourneyDefinition; map: LaidOutMap }> {
    const found = await journeys.findPublishedVersion(journey.id, version);
    if (!found) throw new HttpError(404, `Journey ${journey.id} has no published version ${version}`);
    return { definition: found.definition, map: await layoutOf(journey.id, version, found.definition) };
  }

  async function draft(journey: Journey): Promise<{ definition: JourneyDefinition; map: LaidOutMap }> {
    if (!journey.draft) throw new HttpError(404, `Journey ${journey.id} has no draft`);
    const validation = validateJourney(journey.draft.definition);
    if (!validation.ok)
      throw new HttpError(409, `The draft of journey ${journey.id} is not valid: fix it to see its map`, validation.issues);
    return { definition: validation.journey, map: await layOut(journeyMap(validation.journey)) };
  }

  async function journeyOf(id: string): Promise<Journey> {
    const journey = await journeys.get(id);
    if (!journey) throw new HttpError(404, `Journey ${id} not found`);
    return journey;
  }

  const config = { scopes: ['ops'], browserAuth: true } as const;

  app.get(
    '/journeys/:id',
    {
      config,
      schema: {
        tags: ['ops'],
        summary: 'The journey map: a page that draws the journey with live counts per step and branch',
        description: 'For a browser: it asks for a key with HTTP Basic (any user name, an `ops` or `admin` key as password).',
        params: JourneyParamsSchema,
        querystring: MapQuerySchema,
        produces: ['text/html'],
        response: { 200: z.string().describe('An HTML page'), ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404, 409) },
      },
    },
    async (request, reply) => {
      const journey = await journeyOf(request.params.id);
      // The version asked for, or the one worth seeing: the active one, else the latest published, else the draft.
      const version = request.query.version ?? journey.activeVersion ?? (journey.latestVersion > 0 ? journey.latestVersion : 'draft');
      const { definition, map } = version === 'draft' ? await draft(journey) : await published(journey, version);
      const versions: Array<number | 'draft'> = Array.from({ length: journey.latestVersion }, (_, index) => index + 1);
      if (journey.draft) versions.push('draft');
      const page = renderMapPage({
        journeyId: journey.id,
        name: definition.name,
        status: journey.status,
        version,
        versions,
        map,
        counts: version === 'draft' ? { steps: {}, branches: {} } : await counts(journey.id, version),
        refreshMs: REFRESH_MS,
      });
      return reply.type('text/html; charset=utf-8').send(page);
    },
  );

  app.get(
    '/journeys/:id/counts.json',
    {
      config,
      schema: {
        tags: ['ops'],
        summary: "The map's count lines now, for the page to refresh",
        params: JourneyParamsSchema,
        querystring: z.strictObject({ version: z.coerce.number().int().positive() }),
        response: { 200: CountLinesSchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404) },
      },
    },
    async (request) => {
      const journey = await journeyOf(request.params.id);
      const { version } = request.query;
      const { map } = await published(journey, version);
      return { version, lines: mapLines(map, await counts(journey.id, version)) };
    },
  );
};
