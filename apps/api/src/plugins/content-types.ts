import type { App } from '../app.js';

/**
 * The API speaks JSON only, on every route. Called on the root instance (parsers are encapsulated, so a plugin
 * scope would not do):
 * - Fastify's default `text/plain` parser would hand routes a string (a confusing 400); without it a text body
 *   is a 415.
 * - `Content-Type: application/json` with an empty body is read as no body, as curl sends it for bodiless POSTs
 *   (`curl -X POST -H 'content-type: application/json' .../publish`). A route that needs a body still answers 400
 *   naming `body`; anything else is parsed by Fastify's own JSON parser (prototype-poisoning checks included).
 */
export function registerContentTypes(app: App): void {
  app.removeContentTypeParser('text/plain');
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.length === 0) {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });
}
