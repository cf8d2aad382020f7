import { z } from 'zod';
import { JourneyIdSchema } from './journey.js';

/** The position after the last journey of a list page, handed to clients as an opaque cursor. */

export interface CursorPosition {
  createdAt: Date;
  id: string;
}

const CursorPayloadSchema = z.tuple([z.number().int().nonnegative(), JourneyIdSchema]);

export function encodeCursor(position: CursorPosition): string {
  return Buffer.from(JSON.stringify([position.createdAt.getTime(), position.id])).toString('base64url');
}

export function decodeCursor(cursor: string): CursorPosition | null {
  if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return null;
  try {
    const parsed = CursorPayloadSchema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    return parsed.success ? { createdAt: new Date(parsed.data[0]), id: parsed.data[1] } : null;
  } catch {
    return null;
  }
}

/** A list cursor as `list` hands them out (opaque to clients: the position after the last journey of a page). */
export const JourneyCursorSchema = z
  .string()
  .refine((cursor) => decodeCursor(cursor) !== null, 'is not a cursor from an earlier page of this list');
