import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeysRepository, ApiKeyScope } from '@journey/mongo';
import type { FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from './error-handler.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** No key needed. Only liveness, metrics and the API docs are public; everything else needs a key. */
    public?: boolean;
    /** Scopes whose keys may call the route; an admin key may call every route. Without it, the route is admin-only. */
    scopes?: readonly ApiKeyScope[];
    /** Pages for a browser (the queue dashboard): HTTP Basic is accepted too, and a 401 asks the browser for it. */
    browserAuth?: boolean;
  }
  interface FastifyRequest {
    /** The key that authenticated this request; null on public routes. */
    apiKey: AuthenticatedKey | null;
  }
}

/** Who called: a stored key (`key_...`), or `ADMIN_API_KEY` from the environment. */
export interface AuthenticatedKey {
  id: string;
  scope: ApiKeyScope;
}

export interface AuthOptions {
  apiKeys: Pick<ApiKeysRepository, 'findActiveByKey'>;
  /** Always accepted as an admin key when set. */
  adminApiKey: string | undefined;
}

const ENV_ADMIN: AuthenticatedKey = { id: 'ADMIN_API_KEY', scope: 'admin' };
// RFC 6750 token characters are a subset of this; anything longer than a key can be is not a key.
const BEARER = /^Bearer +([\x21-\x7e]{1,512}) *$/i;
const BASIC = /^Basic +([A-Za-z0-9+/=]{1,1024}) *$/i;

/** The key a request presents: a bearer token, or (browser routes only) the password of HTTP Basic. */
function presentedKey(header: string, allowBasic: boolean): string | undefined {
  const bearer = BEARER.exec(header)?.[1];
  if (bearer || !allowBasic) return bearer;
  const basic = BASIC.exec(header)?.[1];
  if (!basic) return undefined;
  const decoded = Buffer.from(basic, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const password = colon === -1 ? '' : decoded.slice(colon + 1);
  return /^[\x21-\x7e]{1,512}$/.test(password) ? password : undefined;
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

function unauthorized(reply: FastifyReply, message: string, browser: boolean): HttpError {
  reply.header(
    'www-authenticate',
    browser ? 'Basic realm="Journey engine ops: any user name, an ops API key as password", charset="UTF-8"' : 'Bearer',
  );
  return new HttpError(401, message);
}

/**
 * Every route needs a key unless it says `config: { public: true }`; a route names the scopes it serves with
 * `config: { scopes: ['ingest'] }`. No key, or a malformed, unknown or revoked one, is a 401; a valid key of
 * another scope is a 403. Runs on `onRequest`, so an unauthenticated body is never parsed.
 */
export const authPlugin = fp<AuthOptions>(
  async (app, { apiKeys, adminApiKey }) => {
    // Hashing first gives equal lengths, which timingSafeEqual needs, and hides the admin key's length.
    const adminDigest = adminApiKey ? sha256(adminApiKey) : undefined;
    if (!adminDigest) app.log.warn('ADMIN_API_KEY is not set: only stored admin keys can call admin routes');

    app.decorateRequest('apiKey', null);

    // A contradictory declaration fails the start, not a request.
    app.addHook('onRoute', (route) => {
      const { public: isPublic, scopes } = route.config ?? {};
      const name = `${[route.method].flat().join(',')} ${route.url}`;
      if (isPublic && scopes) throw new Error(`Route ${name} is public and also declares scopes`);
      if (scopes && scopes.length === 0) throw new Error(`Route ${name} declares no scopes: omit them for admin-only`);
    });

    app.addHook('onRequest', async (request, reply) => {
      const config = request.routeOptions.config;
      // Unknown routes answer 404 whoever asks: the paths are published in /docs anyway.
      if (config.public || request.is404) return;

      const browser = config.browserAuth === true;
      const header = request.headers.authorization;
      if (!header) throw unauthorized(reply, 'Missing API key: send Authorization: Bearer <key>', browser);
      const presented = presentedKey(header, browser);
      if (!presented) throw unauthorized(reply, 'Malformed Authorization header: expected Bearer <key>', browser);

      let caller: AuthenticatedKey | null = null;
      if (adminDigest && timingSafeEqual(sha256(presented), adminDigest)) {
        caller = ENV_ADMIN;
      } else {
        const stored = await apiKeys.findActiveByKey(presented);
        if (stored) caller = { id: stored.id, scope: stored.scope };
      }
      if (!caller) throw unauthorized(reply, 'Invalid or revoked API key', browser);

      const allowed = config.scopes ?? ['admin'];
      if (caller.scope !== 'admin' && !allowed.includes(caller.scope)) {
        const accepted = [...new Set([...allowed, 'admin'])].join(' or ');
        throw new HttpError(403, `This route needs a key with scope ${accepted}; this key's scope is ${caller.scope}`);
      }
      request.apiKey = caller;
    });
  },
  { name: 'journey-auth', fastify: '5.x' },
);
