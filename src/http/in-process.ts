import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import { duplexPair } from 'node:stream';

interface InProcessRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  timeoutMs: number;
}

interface InProcessAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends a request to this process's own HTTP server and resolves with its answer. */
export type Dispatch = (request: InProcessRequest) => Promise<InProcessAnswer>;

/**
 * Requests to `server` over an in-memory connection (node documents injecting any Duplex as a
 * `connection`): node's own parser, the server's deadlines, the app with every middleware, the
 * delivery log, exactly as a request from outside, without a socket, a port or a URL to know.
 */
export function inProcess(server: Server): Dispatch {
  return ({ method, path, headers, body, timeoutMs }) =>
    new Promise((resolve, reject) => {
      const [client, served] = duplexPair();
      server.emit('connection', served);
      const outgoing = request(
        { method, path, headers: { ...headers, 'content-length': body.length }, createConnection: () => client, timeout: timeoutMs },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            client.destroy();
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) });
          });
        },
      );
      outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      outgoing.on('error', (error) => {
        client.destroy();
        reject(error);
      });
      outgoing.end(body);
    });
}
