/**
 * The durable ceiling: the least any durable receiver must do. node:http, the HMAC check, and the
 * body appended to one file with a group commit (every body that arrived while the previous
 * fdatasync ran goes out in one write and one fdatasync) before answering. No routing, parsing
 * beyond the check, metrics or indexes. Records are a 4-byte big-endian length and the body.
 */
import { closeSync, fdatasync, openSync, writev } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { announceListening, signedJsonIsValid } from './bare-check.js';

const secret = process.env.BENCH_SECRET ?? 'bench-secret';
const file = openSync(join(process.env.BENCH_DATA_DIR ?? '.', 'durable-ceiling.log'), 'a');

interface Pending {
  body: Buffer;
  res: ServerResponse;
}

let waiting: Pending[] = [];
let committing = false;

function commit(): void {
  if (committing || waiting.length === 0) return;
  committing = true;
  const batch = waiting;
  waiting = [];
  const buffers: Buffer[] = [];
  for (const { body } of batch) {
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(body.length);
    buffers.push(length, body);
  }
  const done = (error: Error | null) => {
    for (const { res } of batch) {
      if (error) res.writeHead(503).end();
      else res.writeHead(201, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
    }
    committing = false;
    commit();
  };
  writev(file, buffers, (error) => (error ? done(error) : fdatasync(file, done)));
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (!signedJsonIsValid(secret, req.headers, body)) {
      res.writeHead(401).end();
      return;
    }
    waiting.push({ body, res });
    commit();
  });
});
server.listen(0, '127.0.0.1', () => announceListening(server.address()));
process.on('SIGTERM', () =>
  server.close(() => {
    closeSync(file);
    process.exit(0);
  }),
);
