import { JourneyDefinitionSchema, pastScheduleIssues, validateJourney, type JourneyDefinition } from '@journey/core';
import {
  type Journey,
  type JourneysRepository,
  type JourneySummary,
  type JourneyVersionEntry,
  type JourneyWriteResult,
} from '@journey/mongo';
import type { JourneysRevision, Stats } from '@journey/redis';
import type { JourneyStatesRepository } from '@journey/mongo';
import { z } from 'zod';
import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { HttpError } from '../plugins/error-handler.js';
import { bodyCheckValidator } from '../schemas/body-check.js';
import { errorResponses, KEYED_ROUTE_ERRORS } from '../schemas/error.js';
import { serviceUnavailable } from './unavailable.js';
import {
  CreatedJourneySchema,
  IfMatchHeadersSchema,
  JourneyListSchema,
  JourneyParamsSchema,
  JourneySchema,
  JourneySummarySchema,
  JourneyVersionParamsSchema,
  JourneyVersionSchema,
  ListJourneysQuerySchema,
  type JourneyBody,
  type JourneySummaryBody,
  type JourneyVersionBody,
} from '../schemas/journeys.js';

// ---- the journey body ---------------------------------------------------------------------------

/**
 * The body of create and PUT IS a journey document, so it is checked by the core's own validation: every
 * problem at once (what cannot be stored included), at paths from the document root (`steps.wait.duration`),
 * with the core's wording.
 */
function checkJourneyBody(body: unknown): { value: JourneyDefinition } | { error: HttpError } {
  const validation = validateJourney(body);
  if (!validation.ok) return { error: new HttpError(400, 'Invalid journey', validation.issues) };
  // A one-time schedule already past would run at once: refused when saved, and again when published.
  const past = pastScheduleIssues(validation.journey, Date.now());
  return past.length > 0 ? { error: new HttpError(400, 'Invalid journey', past) } : { value: validation.journey };
}

/** The validator compiler of create and PUT: the body through `checkJourneyBody`, the other parts through their schemas. */
const journeyBodyValidator = bodyCheckValidator(checkJourneyBody);

// ---- shaping answers ----------------------------------------------------------------------------

/** The result of a change, or the HttpError the contract gives its miss. */
function changed(result: JourneyWriteResult): Journey {
  if (result.ok) return result.journey;
  switch (result.reason) {
    case 'not_found':
      throw new HttpError(404, result.message);
    case 'conflict':
      throw new HttpError(409, result.message);
    case 'invalid':
      throw new HttpError(400, result.message, result.issues);
  }
}

function withEtag(reply: FastifyReply, journey: { revision: number }): FastifyReply {
  return reply.header('etag', `"${journey.revision}"`);
}

function summaryBody(journey: Journey | JourneySummary): JourneySummaryBody {
  return {
    id: journey.id,
    name: journey.name,
    status: journey.status,
    activeVersion: journey.activeVersion,
    latestVersion: journey.latestVersion,
    draftVersion: 'draft' in journey ? (journey.draft?.version ?? null) : journey.draftVersion,
    revision: journey.revision,
    createdAt: journey.createdAt.toISOString(),
    updatedAt: journey.updatedAt.toISOString(),
  };
}

function versionBody(entry: JourneyVersionEntry): JourneyVersionBody {
  return {
    version: entry.version,
    status: entry.status,
    publishedAt: entry.publishedAt?.toISOString() ?? null,
    updatedAt: entry.updatedAt.toISOString(),
    definition: entry.definition,
  };
}

function journeyBody(journey: Journey, versions: JourneyVersionEntry[]): JourneyBody {
  const { draft } = journey;
  return {
    ...summaryBody(journey),
    draft: draft ? { version: draft.version, updatedAt: draft.updatedAt.toISOString(), definition: draft.definition } : null,
    versions: versions.map(versionBody),
  };
}

// ---- routes -------------------------------------------------------------------------------------

const tags = ['journeys'];
const config = { scopes: ['admin'] } as const;
const storing = { ...config, storesBody: true } as const;

/** Journey definitions, their versions and lifecycle (admin keys). */
export const journeyRoutes: FastifyPluginAsyncZod<{
  journeys: JourneysRepository;
  revision: Pick<JourneysRevision, 'bump'>;
  states: Pick<JourneyStatesRepository, 'deleteForJourney'>;
  stats: Pick<Stats, 'remove'>;
}> = async (app, { journeys, revision, states, stats }) => {
  // The API speaks JSON only: Fastify's default text/plain parser would hand these routes a string (a confusing
  // 400); without it such a body is a 415. Parsers are encapsulated, so this holds for this plugin's routes.
  app.removeContentTypeParser('text/plain');

  app.post(
    '/v1/journeys',
    {
      config: storing,
      validatorCompiler: journeyBodyValidator,
      schema: {
        tags,
        summary: 'Creates a journey whose draft (version 1) is the body',
        body: JourneyDefinitionSchema,
        response: { 201: CreatedJourneySchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 413, 415) },
      },
    },
    async (request, reply) => {
      const journey = changed(await journeys.create(request.body));
      // A new journey always holds its draft, version 1.
      return withEtag(reply, journey)
        .code(201)
        .send({ id: journey.id, version: journey.draft?.version ?? 1, status: journey.status });
    },
  );

  app.get(
    '/v1/journeys',
    {
      config,
      schema: {
        tags,
        summary: 'Lists journeys, newest first',
        querystring: ListJourneysQuerySchema,
        response: { 200: JourneyListSchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400) },
      },
    },
    async (request) => {
      const { journeys: page, nextCursor } = await journeys.list(request.query);
      return { items: page.map(summaryBody), nextCursor };
    },
  );

  app.get(
    '/v1/journeys/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Reads a journey with its draft and every version',
        description: 'The `ETag` header carries the revision: send it back as `If-Match` to change only what you read.',
        params: JourneyParamsSchema,
        response: { 200: JourneySchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404) },
      },
    },
    async (request, reply) => {
      const found = await journeys.history(request.params.id);
      if (!found) throw new HttpError(404, `Journey ${request.params.id} not found`);
      return withEtag(reply, found.journey).send(journeyBody(found.journey, found.versions));
    },
  );

  app.get(
    '/v1/journeys/:id/versions/:version',
    {
      config,
      schema: {
        tags,
        summary: 'Reads one version of a journey: a published one or the pending draft',
        params: JourneyVersionParamsSchema,
        response: { 200: JourneyVersionSchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404) },
      },
    },
    async (request) => {
      const { id, version } = request.params;
      const found = await journeys.versionEntry(id, version);
      if (!found) throw new HttpError(404, `Journey ${id} has no version ${version}`);
      return versionBody(found.entry);
    },
  );

  app.put(
    '/v1/journeys/:id',
    {
      config: storing,
      validatorCompiler: journeyBodyValidator,
      schema: {
        tags,
        summary: 'Replaces the draft, or opens a new draft version of an active or paused journey',
        description:
          'The journey keeps running its active version until the draft is published. With `If-Match: <revision>` ' +
          'the change applies only if nobody changed the journey since that revision; a lost race is a 409 either way.',
        params: JourneyParamsSchema,
        headers: IfMatchHeadersSchema,
        body: JourneyDefinitionSchema,
        response: { 200: JourneySummarySchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      const journey = changed(await journeys.saveDraft(request.params.id, request.body, { expectedRevision: request.headers['if-match'] }));
      return withEtag(reply, journey).send(summaryBody(journey));
    },
  );

  app.delete(
    '/v1/journeys/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Deletes a draft or archived journey, with its versions, user states and counters',
        description: 'An active or paused journey is a 409: archive it first (its users leave then).',
        params: JourneyParamsSchema,
        headers: IfMatchHeadersSchema,
        response: { 204: z.null().describe('Deleted'), ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404, 409) },
      },
    },
    async (request, reply) => {
      const journey = changed(await journeys.remove(request.params.id, { expectedRevision: request.headers['if-match'] }));
      // The journey is gone for every reader now; what other stores hold of it goes after (a failure here leaves
      // only unreachable leftovers, which a retried DELETE cannot reach: it answers 404).
      await states.deleteForJourney(journey.id);
      await Promise.all(Array.from({ length: journey.latestVersion }, (_, index) => stats.remove(journey.id, index + 1)));
      return reply.code(204).send(null);
    },
  );

  const moves = [
    { name: 'publish', summary: 'Validates the draft and makes it the version new entries use; the journey becomes active' },
    { name: 'pause', summary: 'Stops new entries and moves of an active journey until it is resumed' },
    { name: 'resume', summary: 'Runs a paused journey again' },
    { name: 'archive', summary: 'Ends a journey for good (from draft, active or paused)' },
  ] as const;
  for (const { name, summary } of moves) {
    app.post(
      `/v1/journeys/:id/${name}`,
      {
        config,
        schema: {
          tags,
          summary,
          description:
            'A move the lifecycle does not allow from the current status is a 409 naming that status. Once this answers ' +
            '200, every event accepted afterwards sees the change. A 503 means the change is stored but Redis did not ' +
            'answer: workers see it within a minute, and events accepted until then may not.',
          params: JourneyParamsSchema,
          headers: IfMatchHeadersSchema,
          response: { 200: JourneySummarySchema, ...errorResponses(...KEYED_ROUTE_ERRORS, 400, 404, 409) },
        },
      },
      async (request, reply) => {
        const journey = changed(await journeys[name](request.params.id, { expectedRevision: request.headers['if-match'] }));
        // Workers reload their journeys when the revision moved: only then may an event accepted from now on rely on it.
        try {
          await revision.bump();
        } catch (error) {
          request.log.warn({ err: error, journeyId: journey.id }, 'could not bump the journeys revision');
          throw serviceUnavailable(
            reply,
            `Journey ${journey.id} is ${journey.status} now, but Redis did not answer: workers see the change within a minute, and events accepted until then may not`,
          );
        }
        return withEtag(reply, journey).send(summaryBody(journey));
      },
    );
  }
};
