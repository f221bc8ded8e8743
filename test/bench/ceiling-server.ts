/**
 * The ceiling: a bare node:http server that reads the body, verifies the HMAC and parses JSON, and
 * nothing else (no routing, no storage, no metrics). Our service is measured against this.
 */
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

const secret = process.env.BENCH_SECRET ?? 'bench-secret';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const timestamp = String(req.headers['x-webhook-timestamp']);
    const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest();
    const given = Buffer.from(String(req.headers['x-webhook-signature']).slice('sha256='.length), 'hex');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      res.writeHead(401).end();
      return;
    }
    JSON.parse(body.toString('utf8'));
    res.writeHead(201, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ msg: 'listening', port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
