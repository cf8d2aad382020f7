import { UserIdSchema } from '@journey/core';
import { z } from 'zod';

export const MAX_ENTRIES_PER_REQUEST = 1000;

export const EntriesRequestSchema = z
  .strictObject({
    userIds: z
      .array(UserIdSchema)
      .min(1, 'name at least one user')
      .max(MAX_ENTRIES_PER_REQUEST, `may name at most ${MAX_ENTRIES_PER_REQUEST} users per request`)
      .describe('Users to enter; a user named twice is entered once'),
  })
  .meta({ id: 'EntriesRequest', examples: [{ userIds: ['user-42', 'user-7'] }] });

export const EntriesAcceptedSchema = z
  .object({ accepted: z.number().int().positive().describe('Distinct users whose entry request is durable now') })
  .meta({
    id: 'EntriesAccepted',
    description:
      'Each user is entered when the engine applies the request, in order with their events: a user already inside ' +
      'the journey, or whom its `reentry` rule keeps out, is not entered again.',
    examples: [{ accepted: 2 }],
  });
