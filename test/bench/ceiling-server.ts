/**
 * The ceiling: a bare node:http server that reads the body, verifies the HMAC and parses JSON, and
 * nothing else (no routing, no storage, no metrics). Our service is measured against this.
 */
import { createServer } from 'node:http';
import { announceListening, signedJsonIsValid } from './bare-check.js';

const secret = process.env.BENCH_SECRET ?? 'bench-secret';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    if (!signedJsonIsValid(secret, req.headers, Buffer.concat(chunks))) {
      res.writeHead(401).end();
      return;
    }
    res.writeHead(201, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
  });
});
server.listen(0, '127.0.0.1', () => announceListening(server.address()));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
