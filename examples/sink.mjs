// A webhook receiver for trying the engine: prints every request it gets and answers 200.
// With SECRET set (the journey's webhook `secret`), it also checks each Journey-Signature.
//   node examples/sink.mjs            # listens on http://127.0.0.1:9999
//   PORT=9998 SECRET=... node examples/sink.mjs
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 9999);
const secret = process.env.SECRET;

/** The check docs/product.md shows: HMAC-SHA256 of "<t>.<raw body>", and a `t` no older than five minutes. */
function verify(header, rawBody, key, toleranceSeconds = 300) {
  const { t, v1 } = Object.fromEntries(header.split(',').map((part) => part.split('=')));
  if (!t || !v1 || Math.abs(Date.now() / 1000 - Number(t)) > toleranceSeconds) return false;
  const expected = createHmac('sha256', key).update(`${t}.${rawBody}`).digest('hex');
  return v1.length === expected.length && timingSafeEqual(Buffer.from(v1), Buffer.from(expected));
}

createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const signature = request.headers['journey-signature'];
    const checked =
      signature === undefined ? 'unsigned' : secret ? (verify(signature, body, secret) ? 'signature ok' : 'BAD SIGNATURE') : 'signed';
    let shown = body;
    try {
      const message = JSON.parse(body);
      shown = `${message.userId} ${message.stepId} ${JSON.stringify(message.payload)} (message ${message.messageId})`;
    } catch {
      // not JSON: shown as it came
    }
    const test = request.headers['journey-test'] === 'true' ? ' [test]' : '';
    process.stdout.write(`${new Date().toISOString()} ${request.method} ${request.url} [${checked}]${test} ${shown}\n`);
    response.writeHead(200).end();
  });
}).listen(port, '127.0.0.1', () => process.stdout.write(`sink listening on http://127.0.0.1:${port}/hook\n`));
