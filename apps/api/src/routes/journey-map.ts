import { journeyMap, type JourneyDefinition } from '@journey/core';
import type { JourneysRepository } from '@journey/mongo';
import type { Stats } from '@journey/redis';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { layOut, type LaidOutMap } from '../map/layout.js';
import { mapLines, renderMapPage, type MapCounts } from '../map/page.js';
import { errorResponses, KEYED_ROUTE_ERRORS } from '../schemas/error.js';
import { JourneyParamsSchema } from '../schemas/journeys.js';
import { createJourneyVersions, type JourneyVersionView } from '../services/journey-versions.js';

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
  const versions = createJourneyVersions(journeys);

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

  /** The laid-out map of a view: a published version's is kept, a draft's laid out again each time. */
  function mapOf(view: JourneyVersionView): Promise<LaidOutMap> {
    const { journey, version, definition } = view;
    return version === 'draft' ? layOut(journeyMap(definition)) : layoutOf(journey.id, version, definition);
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
      const view = await versions.view(request.params.id, request.query.version, 'see its map');
      const { journey, version, definition } = view;
      const map = await mapOf(view);
      const choices: Array<number | 'draft'> = Array.from({ length: journey.latestVersion }, (_, index) => index + 1);
      if (journey.draft) choices.push('draft');
      const page = renderMapPage({
        journeyId: journey.id,
        name: definition.name,
        status: journey.status,
        version,
        versions: choices,
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
      const { version } = request.query;
      const view = await versions.published(await versions.journeyOf(request.params.id), version);
      return { version, lines: mapLines(await mapOf(view), await counts(view.journey.id, version)) };
    },
  );
};
