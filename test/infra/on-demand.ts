/**
 * Servers on demand for one `npm test` run. test/run.ts serves a Unix socket; a test file's
 * `await needs('kube', …)` (test/helpers/servers.ts) asks it for the servers the file talks to and
 * gets their env back. Requests are served one at a time against one state dir, so a server starts
 * once per run however many files ask for it, and run.ts stops everything at the end.
 */
import { createServer, request, type Server } from 'node:http';
import { components, type Component } from './state.js';

/** The variable that tells a test process where to ask (set by test/run.ts for the test runner). */
export const ON_DEMAND_SOCKET = 'TW_TEST_SERVERS';

type StartServers = (wanted: readonly Component[]) => Promise<Record<string, string>>;

export async function serveOnDemand(socketPath: string, start: StartServers): Promise<Server> {
  let previous: Promise<unknown> = Promise.resolve();
  const server = createServer((req, res) => {
    void readAll(req).then((body) => {
      const wanted = JSON.parse(body) as Component[];
      const started = previous.then(() => start(wanted));
      previous = started.catch(() => undefined);
      started.then(
        (env) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(env)),
        (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(error instanceof Error ? error.message : String(error)),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return server;
}

/** Asks the run's server on `socketPath` for the wanted servers; resolves with the env that points at them. */
export async function requestServers(socketPath: string, wanted: readonly Component[]): Promise<Record<string, string>> {
  const unknown = wanted.filter((name) => !components.includes(name));
  if (unknown.length > 0) throw new Error(`unknown server(s) ${unknown.join(', ')} (known: ${components.join(', ')})`);
  const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ socketPath, method: 'POST', path: '/' }, (res) => {
      readAll(res).then((text) => resolve({ status: res.statusCode ?? 0, body: text }), reject);
    });
    req.once('error', reject);
    req.end(JSON.stringify(wanted));
  });
  if (status !== 200) throw new Error(`could not start ${wanted.join(', ')}: ${body}`);
  return JSON.parse(body) as Record<string, string>;
}

async function readAll(stream: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}
