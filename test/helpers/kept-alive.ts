/** Signed deliveries over node's own HTTP client with kept-alive connections, as a sender's SDK sends them. */
import { Agent, request as httpRequest } from 'node:http';
import { genericAlert } from './api-client.js';
import { signedHeaders } from './sign.js';

export interface KeptAliveReply {
  status: number;
  body: any;
  /** The server said `Connection: close`: the next request opens a new connection. */
  closes: boolean;
  /** Sent on a connection an earlier request had opened. */
  reused: boolean;
}

/** One kept-alive connection per agent, so whether a request reused it is the question the reply answers. */
export function keptAliveAgent(): Agent {
  return new Agent({ keepAlive: true, maxSockets: 1 });
}

/** A signed generic alert to `source` over `agent`; a connection that dies rejects. */
export function deliverKeptAlive(url: string, agent: Agent, source: string, secret: string, alertId: string): Promise<KeptAliveReply> {
  const body = genericAlert(alertId);
  return new Promise((done, fail) => {
    const outgoing = httpRequest(`${url}/api/webhooks/${source}`, { method: 'POST', agent, headers: signedHeaders(secret, body) }, (response) => {
      let text = '';
      response.on('data', (chunk) => (text += chunk));
      response.once('error', fail);
      response.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // kept as text: the assertion shows it
        }
        done({ status: response.statusCode!, body: parsed, closes: response.headers.connection === 'close', reused: outgoing.reusedSocket });
      });
    });
    outgoing.once('error', fail);
    outgoing.end(body);
  });
}
